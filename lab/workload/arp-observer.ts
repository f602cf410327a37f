/**
 * The client's view of the network. Two observers:
 *
 *  - ClientArpObserver: which MAC — and so which node — the client's neighbour table holds for each
 *    VIP over time. The client stream runs on the host, whose side of the lab network is the lab's
 *    bridge, so this is `ip monitor neigh` on that bridge, run by the lab's own process. Only possible
 *    when the engine runs on this machine; otherwise it says why not, once, in the history.
 *  - GarpObserver: gratuitous ARPs for the VIPs seen on the wire, from tcpdump on the client node.
 */
import { access } from "node:fs/promises";
import { execa, type ResultPromise } from "execa";
import type { History } from "../history/history.ts";
import type { LabNode, LineStream } from "../runtime/node-container.ts";
import { type NeighbourTimers, readNeighbourTimers } from "../protocol/neighbour.ts";
import { parseArpPacket, parseNeighLine } from "./parse.ts";

export class ClientArpObserver {
  private readonly history: History;
  private readonly vips: ReadonlySet<string>;
  private readonly nodeByMac: (mac: string) => Promise<string | null>;
  private monitor: ResultPromise | undefined;
  private readonly current = new Map<string, string | null>();
  /** Why the view is unavailable, when it is. */
  unavailable: string | undefined;
  /** The client kernel's ARP timers on the bridge (what bounds a stale entry). */
  timers: NeighbourTimers | undefined;

  constructor(history: History, vips: Iterable<string>, nodeByMac: (mac: string) => Promise<string | null>) {
    this.history = history;
    this.vips = new Set(vips);
    this.nodeByMac = nodeByMac;
  }

  /** Start watching the bridge; resolves once the current entries are recorded. */
  async start(bridge: string, engineIsLocal: boolean): Promise<void> {
    if (!engineIsLocal) return this.disable(`the engine is not on this machine, so its bridge ${bridge} cannot be watched`);
    try {
      await access(`/sys/class/net/${bridge}`);
    } catch {
      return this.disable(`bridge ${bridge} is not visible on this machine`);
    }
    this.timers = await readNeighbourTimers(bridge);
    // A watchdog ends the monitor when this process is gone, even killed with SIGKILL (which no
    // clean-up handler sees): nothing of the lab outlives it on the host.
    const proc = execa(
      "bash",
      ["-c", 'ip -o monitor neigh dev "$1" & m=$!; trap "kill $m 2>/dev/null" EXIT; while kill -0 "$2" 2>/dev/null && kill -0 "$m" 2>/dev/null; do sleep 1; done', "arp-watch", bridge, String(process.pid)],
      { buffer: false, reject: false },
    );
    this.monitor = proc;
    proc.catch(() => undefined);
    void (async () => {
      try {
        for await (const line of proc.iterable()) await this.take(String(line), "monitor");
      } catch {
        /* stopped */
      }
    })();
    const snapshot = await execa("ip", ["-o", "neigh", "show", "dev", bridge], { reject: false });
    if (snapshot.exitCode !== 0) return this.disable(`\`ip neigh show dev ${bridge}\` failed: ${snapshot.stderr}`);
    for (const line of snapshot.stdout.split("\n")) await this.take(line, "snapshot");
  }

  /** The MAC the client holds for `vip` now, as last seen. */
  macOf(vip: string): string | null | undefined {
    return this.current.get(vip);
  }

  stop(): void {
    this.monitor?.kill();
    this.monitor = undefined;
  }

  private disable(reason: string): void {
    this.unavailable = reason;
    this.history.append({ process: "observer", f: "log", node: "client", daemon: "arp-observer", line: `client ARP view unavailable: ${reason}`, atMs: this.history.clock.nowMs() });
  }

  private async take(line: string, _source: "monitor" | "snapshot"): Promise<void> {
    const atMs = this.history.clock.nowMs();
    const n = parseNeighLine(line);
    if (!n || !this.vips.has(n.ip)) return;
    const mac = n.deleted || n.state === "FAILED" || n.state === "INCOMPLETE" ? null : n.mac;
    if (this.current.has(n.ip) && this.current.get(n.ip) === mac) return;
    this.current.set(n.ip, mac);
    const node = mac ? await this.nodeByMac(mac) : null;
    this.history.append({ process: "observer", f: "arp", vip: n.ip, mac, node, state: n.state, atMs });
  }
}

/** Where the client node keeps a copy of the ARP packets it saw. */
export const ARP_LOG = "/var/log/lab/arp.log";

export class GarpObserver {
  private readonly history: History;
  private readonly vips: ReadonlySet<string>;
  private readonly nodeByMac: (mac: string) => Promise<string | null>;
  private stream: LineStream | undefined;
  private client: LabNode | undefined;
  private lastStampUs = 0;

  constructor(history: History, vips: Iterable<string>, nodeByMac: (mac: string) => Promise<string | null>) {
    this.history = history;
    this.vips = new Set(vips);
    this.nodeByMac = nodeByMac;
  }

  async start(client: LabNode): Promise<void> {
    // A copy goes to ARP_LOG, for catchUp.
    const stream = await client.stream(["sh", "-c", `mkdir -p /var/log/lab; exec tcpdump -l -n -e -i eth0 arp 2>/dev/null | lab-stamp | tee -a ${ARP_LOG}`]);
    this.stream = stream;
    this.client = client;
    void (async () => {
      for await (const line of stream.lines) await this.take(line);
    })().catch(() => undefined);
  }

  /** Read the client node's copy to its end for what the stream has not delivered yet (a run's end, before its checks). */
  async catchUp(timeoutMs = 20_000): Promise<void> {
    if (!this.client || !this.stream) return;
    const text = await this.client.readFile(ARP_LOG, timeoutMs).catch(() => undefined);
    if (text === undefined) return;
    for (const line of text.split("\n")) await this.take(line);
  }

  private async take(line: string): Promise<void> {
    const p = parseArpPacket(line);
    // Gratuitous: the sender announces the address it asks about (or an unsolicited reply).
    if (!p || p.stampUs <= this.lastStampUs) return;
    this.lastStampUs = p.stampUs;
    if (!this.vips.has(p.ip) || p.senderIp !== p.ip) return;
    this.history.append({ process: "observer", f: "garp", vip: p.ip, mac: p.srcMac, node: await this.nodeByMac(p.srcMac), atMs: this.history.clock.fromEpochMicros(p.stampUs) });
  }

  stop(): void {
    this.stream?.close();
    this.stream = undefined;
  }
}
