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
  /** The node being read (for catchUp). */
  node: LabNode | undefined;
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
    log.node = node;
    void (async () => {
      for await (const line of stream.lines) {
        if (log.generation !== generation) return;
        this.consume(node.name, log, line);
      }
    })().catch(() => undefined);
  }

  /**
   * Read every watched node's log file to its end and take in what the live stream has not delivered
   * yet. A stream from a busy node (a TCG guest's) runs seconds behind: without this, a transition
   * in the last seconds of a run would be missing from the history its checks read. Lines already
   * taken in are skipped by stamp, so the stream and this can overlap.
   */
  async catchUp(timeoutMs = 20_000): Promise<void> {
    await Promise.all(
      [...this.nodes].map(async ([name, log]) => {
        const node = log.node;
        if (!node || !log.stream) return;
        const generation = log.generation;
        const text = await node.readFile(KEEPALIVED_LOG, timeoutMs).catch(() => undefined);
        if (text === undefined || log.generation !== generation) return;
        for (const line of text.split("\n")) this.consume(name, log, line);
      }),
    );
  }

  private consume(nodeName: string, log: NodeLog, line: string): void {
    const parsed = parseKeepalivedLine(line);
    if (!parsed || parsed.stampUs <= log.lastStampUs) return;
    log.lastStampUs = parsed.stampUs;
    const atMs = this.history.clock.fromEpochMicros(parsed.stampUs);
    if (parsed.kind === "state") this.transition(nodeName, log, parsed.instance, parsed.state, parsed.line, atMs);
    else if (parsed.kind === "stopped") {
      for (const instance of this.instancesOf(nodeName)) this.transition(nodeName, log, instance, "STOP", parsed.line, atMs);
    } else if (parsed.kind === "notable") {
      this.history.append({ process: "observer", f: "log", node: nodeName, daemon: "keepalived", line: parsed.line, atMs });
    }
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
      l = { stream: undefined, node: undefined, lastStampUs: 0, states: new Map(), generation: 0 };
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
