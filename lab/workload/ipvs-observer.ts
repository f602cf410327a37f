/**
 * Each director's IPVS table over time. One streamed exec per director runs `ipvsadm -Ln` every
 * IPVS_POLL_MS inside the node and prints each table after a stamp of the realtime clock taken just
 * before it; an `ipvs` op is written whenever the services, their real servers, forwarding methods
 * or weights differ from the previous table (connection counters are ignored). keepalived's own
 * "Adding service" / "Removing service" lines, stamped as they are logged, come through the VRRP
 * observer's log reading (parse.ts NOTABLE) as `log` ops: they time a change exactly, the table
 * shows what the kernel then holds.
 *
 * A change is seen at most IPVS_POLL_MS (plus one ipvsadm run) after it happened.
 */
import type { History } from "../history/history.ts";
import type { IpvsService } from "../history/ops.ts";
import { parseEpochRealtime } from "../history/clock.ts";
import type { LabNode, LineStream } from "../runtime/node-container.ts";
import { parseIpvsTable } from "./parse.ts";

/** How often each director's table is read. */
export const IPVS_POLL_MS = 500;

interface Watch {
  stream: LineStream | undefined;
  generation: number;
  last: string | undefined;
  tables: IpvsService[] | undefined;
}

export class IpvsObserver {
  private readonly history: History;
  private readonly watches = new Map<string, Watch>();

  constructor(history: History) {
    this.history = history;
  }

  /** (Re)start reading a director's table. */
  async attach(node: LabNode): Promise<void> {
    const w = this.watchOf(node.name);
    w.stream?.close();
    const generation = ++w.generation;
    w.last = undefined;
    // `read -t` on a pipe nobody writes to waits without forking a `sleep` each time (a fork is
    // dear in a TCG guest): one ipvsadm per poll and nothing else.
    const script = `exec 9<> <(:); while :; do echo "TABLE $EPOCHREALTIME"; ipvsadm -Ln 2>&1; echo "END $?"; read -t ${IPVS_POLL_MS / 1000} -u 9; done`;
    const stream = await node.stream(["bash", "-c", script]);
    w.stream = stream;
    void (async () => {
      let stampUs: number | undefined;
      let body: string[] = [];
      for await (const line of stream.lines) {
        if (w.generation !== generation) return;
        if (line.startsWith("TABLE ")) {
          stampUs = parseEpochRealtime(line.slice(6));
          body = [];
        } else if (line.startsWith("END")) {
          if (stampUs !== undefined) this.record(node.name, w, stampUs, body.join("\n"), line.slice(4).trim());
          stampUs = undefined;
        } else body.push(line);
      }
    })().catch(() => undefined);
  }

  detach(nodeName: string): void {
    const w = this.watchOf(nodeName);
    w.generation++;
    w.stream?.close();
    w.stream = undefined;
  }

  /** The last table read from a director. */
  current(nodeName: string): IpvsService[] | undefined {
    return this.watches.get(nodeName)?.tables;
  }

  private record(nodeName: string, w: Watch, stampUs: number, text: string, exitCode: string): void {
    const failed = exitCode !== "0";
    const services = failed ? [] : parseIpvsTable(text);
    const signature = failed ? `error ${text}` : JSON.stringify(services);
    if (signature === w.last) return;
    w.last = signature;
    w.tables = services;
    this.history.append({
      process: "observer",
      f: "ipvs",
      node: nodeName,
      services,
      ...(failed ? { error: text.trim().split("\n")[0] || `ipvsadm exited with ${exitCode}` } : {}),
      atMs: this.history.clock.fromEpochMicros(stampUs),
    });
  }

  close(): void {
    for (const name of this.watches.keys()) this.detach(name);
  }

  private watchOf(name: string): Watch {
    let w = this.watches.get(name);
    if (!w) {
      w = { stream: undefined, generation: 0, last: undefined, tables: undefined };
      this.watches.set(name, w);
    }
    return w;
  }
}
