/**
 * A client stream that runs inside the lab's client node (in-node/lab-requests.pl), for engines
 * whose lab network this process cannot reach — the qemu guest's, or a remote engine's. It records
 * the same `request` ops as RequestStream: open loop at a fixed rate, a new connection per request,
 * start and end stamped in the node (its realtime clock, placed on the lab's timeline like every
 * other in-node stamp), outcome, status, and who served it (X-Lab-LB / X-Lab-Backend / X-Lab-Peer).
 * It can also send from several source addresses in turn (an LVS client population), each request
 * then naming its `source`.
 */
import { readFileSync } from "node:fs";
import { LabError } from "../errors.ts";
import type { History } from "../history/history.ts";
import type { RequestOutcome } from "../history/ops.ts";
import type { LabNode, LineStream } from "../runtime/node-container.ts";

const SCRIPT = readFileSync(new URL("./in-node/lab-requests.pl", import.meta.url), "utf8");
const SCRIPT_PATH = "/usr/local/bin/lab-requests";
const OUTCOMES: readonly RequestOutcome[] = ["ok", "http-error", "refused", "timeout", "reset", "error"];

/** What runScenario and the lab need of any client stream. */
export interface ClientStream {
  readonly name: string;
  readonly url: string;
  readonly count: number;
  start(): void;
  /** Resolves once requests are being sent (a stream in a node needs a moment to start). */
  ready?(): Promise<void>;
  stop(): Promise<void>;
}

export interface NodeRequestStreamOptions {
  name?: string;
  /** The node the requests are sent from (the lab's client node). */
  node: LabNode;
  host: string;
  port: number;
  path?: string;
  /** Requests started per second. Default 20 (a TCG guest's client node manages a few dozen). */
  ratePerSecond?: number;
  /** A request not answered after this long is a timeout. Default 1000 ms. */
  timeoutMs?: number;
  /** Send from these addresses in turn (added to the node's eth0 with `prefix`); default its own. */
  sources?: string[];
  prefix?: number;
  /** Map a peer address (X-Lab-Peer) to a load balancer name. */
  lbByAddress?: ReadonlyMap<string, string>;
}

export class NodeRequestStream implements ClientStream {
  readonly name: string;
  readonly url: string;
  readonly ratePerSecond: number;
  readonly timeoutMs: number;
  private readonly history: History;
  private readonly options: NodeRequestStreamOptions;
  private started = 0;
  private stream: LineStream | undefined;
  private running: Promise<void> | undefined;
  private readyPromise: Promise<void> | undefined;
  private ended: Promise<void> | undefined;
  private failure: Error | undefined;

  constructor(history: History, options: NodeRequestStreamOptions) {
    this.history = history;
    this.options = options;
    this.name = options.name ?? "vip";
    this.url = `http://${options.host}:${options.port}${options.path ?? "/"}`;
    this.ratePerSecond = options.ratePerSecond ?? 20;
    this.timeoutMs = options.timeoutMs ?? 1000;
    if (!(this.ratePerSecond > 0 && this.ratePerSecond <= 1000)) throw new LabError(`Expected the in-node request rate to be between 1 and 1000 per second, got ${this.ratePerSecond}`);
    if (!(this.timeoutMs >= 10 && this.timeoutMs <= 60_000)) throw new LabError(`Expected the request timeout to be between 10 ms and 60 s, got ${this.timeoutMs}`);
  }

  get count(): number {
    return this.started;
  }

  start(): void {
    if (this.running) return;
    let signalReady: () => void = () => {};
    let failReady: (err: Error) => void = () => {};
    this.readyPromise = new Promise<void>((resolve, reject) => {
      signalReady = resolve;
      failReady = reject;
    });
    this.readyPromise.catch(() => undefined);
    this.running = this.begin(signalReady).catch((err: unknown) => {
      this.failure = err instanceof Error ? err : new Error(String(err));
      failReady(this.failure);
    });
  }

  ready(): Promise<void> {
    if (!this.readyPromise) throw new LabError(`request stream ${this.name} was not started`);
    return this.readyPromise;
  }

  /** Stop starting requests, let those in flight finish (or time out), and wait for the last op. */
  async stop(): Promise<void> {
    if (!this.running) return;
    await this.running;
    if (this.stream) {
      const node = this.options.node;
      await node.exec(["sh", "-c", `kill -TERM "$(cat ${this.pidFile()})" 2>/dev/null; true`], { check: false, timeoutMs: 10_000 }).catch(() => undefined);
      const grace = this.timeoutMs + 5_000 * node.pace.timeScale;
      await Promise.race([this.ended, new Promise((r) => setTimeout(r, grace))]);
      this.stream.close();
      this.stream = undefined;
    }
    if (this.failure) throw new LabError(`request stream ${this.name} in node ${this.options.node.name} failed: ${this.failure.message}`, { cause: this.failure });
  }

  private pidFile(): string {
    return `/run/lab-requests-${this.name.replace(/[^A-Za-z0-9_.-]/g, "_")}.pid`;
  }

  private async begin(signalReady: () => void): Promise<void> {
    const node = this.options.node;
    await node.writeFile(SCRIPT_PATH, SCRIPT, 0o755);
    const own = node.address;
    const sources = this.options.sources ?? [];
    const extra = sources.filter((s) => s !== own);
    if (extra.length > 0) {
      if (this.options.prefix === undefined) throw new LabError("extra source addresses need the subnet's prefix");
      await node.exec(["sh", "-c", extra.map((s) => `ip addr replace ${s}/${this.options.prefix} dev eth0`).join(" && ")]);
    }
    const args = [
      "--host", this.options.host,
      "--port", String(this.options.port),
      "--path", this.options.path ?? "/",
      "--rate", String(this.ratePerSecond),
      "--timeout", String(this.timeoutMs),
      ...(sources.length ? ["--sources", sources.join(",")] : []),
    ];
    const quoted = args.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
    this.stream = await node.stream(["bash", "-c", `echo $$ > ${this.pidFile()}; exec perl ${SCRIPT_PATH} ${quoted}`]);
    const stream = this.stream;
    this.ended = (async () => {
      for await (const line of stream.lines) {
        if (line.startsWith("START")) signalReady();
        else if (line.startsWith("R ")) this.record(line);
        else if (line.startsWith("END")) return;
        else if (line.trim()) this.failure ??= new Error(line.trim());
      }
    })().catch(() => undefined);
  }

  /** R <start> <end> <outcome> <status> <backend> <lb> <peer> <source> <source port> <error…> */
  private record(line: string): void {
    const [, start, end, outcome, status, backend, lb, peer, source, port, ...rest] = line.split(" ");
    const startUs = Number(start);
    const endUs = Number(end);
    if (!Number.isFinite(startUs) || !Number.isFinite(endUs)) return;
    this.started++;
    const clock = this.history.clock;
    const dash = (v: string | undefined) => (v === undefined || v === "-" ? undefined : v);
    const served = dash(lb) ?? this.options.lbByAddress?.get(dash(peer) ?? "");
    const error = dash(rest.join(" "))?.replace(/_/g, " ");
    this.history.append({
      process: "client",
      f: "request",
      stream: this.name,
      target: this.url,
      atMs: clock.fromEpochMicros(startUs),
      endMs: clock.fromEpochMicros(endUs),
      outcome: OUTCOMES.includes(outcome as RequestOutcome) ? (outcome as RequestOutcome) : "error",
      ...(dash(status) ? { status: Number(status) } : {}),
      ...(served ? { lb: served } : {}),
      ...(dash(backend) ? { backend: dash(backend)! } : {}),
      ...(dash(source) ? { source: dash(source)! } : {}),
      ...(Number(port) > 0 ? { sourcePort: Number(port) } : {}),
      ...(error ? { error } : {}),
    });
  }
}
