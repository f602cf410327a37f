/**
 * keepalived's VRRP state per node and instance, from its log (each line stamped inside the node).
 * After a power cycle the log is read again from the start; lines already seen are skipped by stamp.
 */
import type { History } from "../history/history.ts";
import type { VrrpState } from "../history/ops.ts";
import type { LabNode, LineStream } from "../runtime/node-container.ts";
import { parseKeepalivedLine } from "./parse.ts";

export const KEEPALIVED_LOG = "/var/log/lab/keepalived.log";

interface NodeLog {
  stream: LineStream | undefined;
  lastStampUs: number;
  states: Map<string, VrrpState>;
  generation: number;
}

export class VrrpObserver {
  private readonly history: History;
  private readonly instancesOf: (node: string) => string[];
  private readonly nodes = new Map<string, NodeLog>();

  /** @param instancesOf the VRRP instances a node takes part in (to mark them STOP when keepalived stops) */
  constructor(history: History, instancesOf: (node: string) => string[]) {
    this.history = history;
    this.instancesOf = instancesOf;
  }

  async attach(node: LabNode): Promise<void> {
    const log = this.logOf(node.name);
    log.stream?.close();
    const generation = ++log.generation;
    const stream = await node.stream(["tail", "-n", "+1", "-F", KEEPALIVED_LOG]);
    log.stream = stream;
    void (async () => {
      for await (const line of stream.lines) {
        if (log.generation !== generation) return;
        const parsed = parseKeepalivedLine(line);
        if (!parsed || parsed.stampUs <= log.lastStampUs) continue;
        log.lastStampUs = parsed.stampUs;
        const atMs = this.history.clock.fromEpochMicros(parsed.stampUs);
        if (parsed.kind === "state") this.transition(node.name, log, parsed.instance, parsed.state, parsed.line, atMs);
        else if (parsed.kind === "stopped") {
          for (const instance of this.instancesOf(node.name)) this.transition(node.name, log, instance, "STOP", parsed.line, atMs);
        } else if (parsed.kind === "notable") {
          this.history.append({ process: "observer", f: "log", node: node.name, daemon: "keepalived", line: parsed.line, atMs });
        }
      }
    })().catch(() => undefined);
  }

  /**
   * Stop reading a node. With `powerLost`, its keepalived died without a word: no transition is
   * invented, but its next life starts from INIT (so a reboot reads INIT → BACKUP, not MASTER → BACKUP).
   */
  detach(nodeName: string, options: { powerLost?: boolean } = {}): void {
    const log = this.logOf(nodeName);
    log.generation++;
    log.stream?.close();
    log.stream = undefined;
    if (options.powerLost) log.states.clear();
  }

  state(node: string, instance: string): VrrpState {
    return this.nodes.get(node)?.states.get(instance) ?? "INIT";
  }

  close(): void {
    for (const name of this.nodes.keys()) this.detach(name);
  }

  private logOf(name: string): NodeLog {
    let l = this.nodes.get(name);
    if (!l) {
      l = { stream: undefined, lastStampUs: 0, states: new Map(), generation: 0 };
      this.nodes.set(name, l);
    }
    return l;
  }

  private transition(node: string, log: NodeLog, instance: string, to: VrrpState, line: string, atMs: number): void {
    const from = log.states.get(instance) ?? "INIT";
    if (from === to) return;
    log.states.set(instance, to);
    this.history.append({ process: "observer", f: "vrrp", node, instance, from, to, line, atMs });
  }
}
