/**
 * Who holds each VIP, event-driven: every load balancer streams its IPv4 address changes
 * (`ip monitor address`, stamped inside the node with the shared kernel clock). A node that loses
 * power loses its interface with it; the nemesis tells the observer, which records the release at
 * the power-off and watches again after the node is back.
 */
import type { Clock } from "../history/clock.ts";
import type { History } from "../history/history.ts";
import type { LabNode, LineStream } from "../runtime/node-container.ts";
import { WaitTimeoutError } from "../errors.ts";
import { type AddressLine, parseAddressLine } from "./parse.ts";

type AddressEvent = Extract<AddressLine, { kind: "added" | "deleted" }>;

/** Where lab-watch-addresses keeps a copy of what it prints (for catchUp). */
export const ADDRESSES_LOG = "/var/log/lab/addresses.log";

interface NodeWatch {
  held: Set<string>;
  stream: LineStream | undefined;
  generation: number;
  /** The node being watched (for catchUp). */
  node: LabNode | undefined;
  /** Stamp of the last monitor event taken in. */
  lastEventUs: number;
}

export class VipObserver {
  private readonly history: History;
  private readonly clock: Clock;
  private readonly vips: ReadonlySet<string>;
  private readonly nodes = new Map<string, NodeWatch>();

  constructor(history: History, vips: Iterable<string>) {
    this.history = history;
    this.clock = history.clock;
    this.vips = new Set(vips);
  }

  /** Start (or restart) watching a node; resolves once its current addresses are known (10 s, scaled by the engine's pace). */
  async attach(node: LabNode, timeoutMs = 10_000 * node.pace.timeScale): Promise<void> {
    const watch = this.watchOf(node.name);
    watch.stream?.close();
    const generation = ++watch.generation;
    const stream = await node.stream(["lab-watch-addresses"]);
    watch.stream = stream;
    watch.node = node;
    let snapshot: Set<string> | undefined = new Set();
    // VIPs the monitor reported while the snapshot was being taken. The snapshot's lines are stamped
    // by their own lab-stamp, which in a slow node can print them after a change the monitor has
    // already reported, and the addresses listed may be older than that change: for such a VIP the
    // monitor's event is the later truth, not the snapshot.
    const changedDuringSnapshot = new Set<string>();
    let resolveReady!: () => void;
    const ready = new Promise<void>((r) => (resolveReady = r));
    void (async () => {
      for await (const line of stream.lines) {
        if (watch.generation !== generation) return;
        const parsed = parseAddressLine(line);
        if (!parsed) continue;
        const atMs = this.clock.fromEpochMicros(parsed.stampUs);
        if (parsed.kind === "snapshot") {
          // Only eth0 counts: an LVS-DR real server holds the VIP on lo without answering for it.
          if (this.vips.has(parsed.address) && parsed.dev === "eth0") snapshot?.add(parsed.address);
        } else if (parsed.kind === "snapshot-end") {
          const present = snapshot ?? new Set<string>();
          for (const vip of present) if (!watch.held.has(vip) && !changedDuringSnapshot.has(vip)) this.record(node.name, watch, vip, "acquired", "snapshot", atMs);
          for (const vip of [...watch.held]) if (!present.has(vip) && !changedDuringSnapshot.has(vip)) this.record(node.name, watch, vip, "released", "snapshot", atMs);
          snapshot = undefined;
          resolveReady();
        } else {
          if (snapshot !== undefined && this.vips.has(parsed.address) && parsed.dev === "eth0") changedDuringSnapshot.add(parsed.address);
          this.monitorEvent(node.name, watch, parsed, atMs);
        }
      }
    })().catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      ready,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new WaitTimeoutError(`the address snapshot of node ${node.name}`, timeoutMs)), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
  }

  /**
   * Read every watched node's copy of its address stream to the end and take in the changes the live
   * stream has not delivered yet (a busy node's stream runs seconds behind; a run's checks must not
   * miss a VIP that moved in its last seconds). Changes already taken in are skipped by stamp.
   */
  async catchUp(timeoutMs = 20_000): Promise<void> {
    await Promise.all(
      [...this.nodes].map(async ([name, watch]) => {
        const node = watch.node;
        if (!node || !watch.stream) return;
        const generation = watch.generation;
        const text = await node.readFile(ADDRESSES_LOG, timeoutMs).catch(() => undefined);
        if (text === undefined || watch.generation !== generation) return;
        for (const line of text.split("\n")) {
          const parsed = parseAddressLine(line);
          if (parsed && (parsed.kind === "added" || parsed.kind === "deleted")) this.monitorEvent(name, watch, parsed, this.clock.fromEpochMicros(parsed.stampUs));
        }
      }),
    );
  }

  /** The node lost power at `atMs`: its VIPs went with its interface. Stops watching it. */
  nodeDown(nodeName: string, atMs: number): void {
    const watch = this.watchOf(nodeName);
    watch.generation++;
    watch.stream?.close();
    watch.stream = undefined;
    for (const vip of [...watch.held]) this.record(nodeName, watch, vip, "released", "node-down", atMs);
  }

  /** Nodes holding a VIP now, as last seen. */
  owners(vip: string): string[] {
    return [...this.nodes].filter(([, w]) => w.held.has(vip)).map(([name]) => name);
  }

  close(): void {
    for (const watch of this.nodes.values()) {
      watch.generation++;
      watch.stream?.close();
      watch.stream = undefined;
    }
  }

  private watchOf(name: string): NodeWatch {
    let w = this.nodes.get(name);
    if (!w) {
      w = { held: new Set(), stream: undefined, generation: 0, node: undefined, lastEventUs: 0 };
      this.nodes.set(name, w);
    }
    return w;
  }

  private monitorEvent(nodeName: string, watch: NodeWatch, parsed: AddressEvent, atMs: number): void {
    if (parsed.stampUs <= watch.lastEventUs) return;
    watch.lastEventUs = parsed.stampUs;
    if (!this.vips.has(parsed.address) || parsed.dev !== "eth0") return;
    if (parsed.kind === "added" && !watch.held.has(parsed.address)) this.record(nodeName, watch, parsed.address, "acquired", "monitor", atMs);
    if (parsed.kind === "deleted" && watch.held.has(parsed.address)) this.record(nodeName, watch, parsed.address, "released", "monitor", atMs);
  }

  private record(node: string, watch: NodeWatch, vip: string, event: "acquired" | "released", source: "monitor" | "snapshot" | "node-down", atMs: number): void {
    if (event === "acquired") watch.held.add(vip);
    else watch.held.delete(vip);
    this.history.append({ process: "observer", f: "vip", node, vip, event, source, atMs });
  }
}
