/**
 * A client stream against a VIP: requests started at a fixed rate (open loop — a slow or failing
 * service does not slow the schedule down), each on a new connection so that every request asks
 * "can a new client reach the VIP now?". Every request is an op: start, end, outcome (status, or
 * refused / timeout / reset / error) and which load balancer and backend served it.
 */
import { Agent, request } from "undici";
import type { History } from "../history/history.ts";
import type { RequestOutcome } from "../history/ops.ts";
import { LabError } from "../errors.ts";

export interface RequestStreamOptions {
  /** Name of the stream in the history. */
  name?: string;
  /** e.g. http://10.213.7.100:80/ — must be an address of the lab. */
  url: string;
  /** Requests started per second. Default 200. */
  ratePerSecond?: number;
  /** A request that has not completed after this long is a timeout. Default 1000 ms. */
  timeoutMs?: number;
  /** Most requests in flight at once; when reached, a scheduled request is recorded as an error, not delayed. Default rate × timeout. */
  concurrency?: number;
  /** Map a peer address (X-Lab-Peer, seen by the backend) to a load balancer name, for L4 proxies. */
  lbByAddress?: ReadonlyMap<string, string>;
}

export class RequestStream {
  readonly name: string;
  readonly url: string;
  private readonly history: History;
  private readonly ratePerSecond: number;
  private readonly timeoutMs: number;
  private readonly concurrency: number;
  private readonly lbByAddress: ReadonlyMap<string, string>;
  private readonly agent: Agent;
  private running = false;
  private inFlight = new Set<Promise<void>>();
  private loop: Promise<void> | undefined;
  private started = 0;

  constructor(history: History, options: RequestStreamOptions) {
    this.history = history;
    this.name = options.name ?? "vip";
    this.url = options.url;
    this.ratePerSecond = options.ratePerSecond ?? 200;
    this.timeoutMs = options.timeoutMs ?? 1000;
    if (!(this.ratePerSecond > 0 && this.ratePerSecond <= 20_000)) throw new LabError(`request rate must be between 1 and 20000 per second, got ${this.ratePerSecond}`);
    if (!(this.timeoutMs >= 10 && this.timeoutMs <= 60_000)) throw new LabError(`request timeout must be between 10 ms and 60 s, got ${this.timeoutMs}`);
    this.concurrency = options.concurrency ?? Math.max(16, Math.ceil((this.ratePerSecond * this.timeoutMs) / 1000) + 16);
    this.lbByAddress = options.lbByAddress ?? new Map();
    this.agent = new Agent({
      connect: { timeout: this.timeoutMs },
      connections: this.concurrency,
      pipelining: 1,
      keepAliveTimeout: 1,
      keepAliveMaxTimeout: 1,
    });
  }

  /** Requests started so far. */
  get count(): number {
    return this.started;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.schedule();
  }

  /** Stop starting requests and wait for those in flight. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await Promise.allSettled([...this.inFlight]);
    await this.agent.close().catch(() => undefined);
  }

  private async schedule(): Promise<void> {
    const periodMs = 1000 / this.ratePerSecond;
    const clock = this.history.clock;
    const t0 = clock.nowMs();
    let next = 0;
    while (this.running) {
      const now = clock.nowMs();
      // Start every request whose slot has come (catching up after a late wake-up).
      while (this.running && t0 + next * periodMs <= now) {
        next++;
        this.fire();
      }
      const wait = t0 + next * periodMs - clock.nowMs();
      await new Promise((r) => setTimeout(r, Math.max(0, Math.min(wait, 50))));
    }
  }

  private fire(): void {
    this.started++;
    const startMs = this.history.clock.nowMs();
    if (this.inFlight.size >= this.concurrency) {
      this.record(startMs, startMs, "error", { error: `client overloaded: ${this.inFlight.size} requests in flight` });
      return;
    }
    const p = this.one(startMs).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  private async one(startMs: number): Promise<void> {
    try {
      const res = await request(this.url, {
        method: "GET",
        dispatcher: this.agent,
        reset: true,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await res.body.dump();
      const header = (name: string) => {
        const v = res.headers[name];
        return Array.isArray(v) ? v[0] : v;
      };
      const backend = header("x-lab-backend");
      const lb = header("x-lab-lb") ?? this.lbByAddress.get(header("x-lab-peer") ?? "");
      const ok = res.statusCode >= 200 && res.statusCode < 300;
      this.record(startMs, this.history.clock.nowMs(), ok ? "ok" : "http-error", {
        status: res.statusCode,
        ...(lb ? { lb } : {}),
        ...(backend ? { backend } : {}),
      });
    } catch (err) {
      const { outcome, error } = classify(err);
      this.record(startMs, this.history.clock.nowMs(), outcome, { error });
    }
  }

  private record(startMs: number, endMs: number, outcome: RequestOutcome, extra: { status?: number; lb?: string; backend?: string; error?: string }): void {
    this.history.append({ process: "client", f: "request", stream: this.name, target: this.url, atMs: startMs, endMs, outcome, ...extra });
  }
}

/** Name a failed request's outcome from the error undici (or the socket) gave. */
export function classify(err: unknown): { outcome: RequestOutcome; error: string } {
  const e = err as { code?: unknown; name?: string; message?: string; cause?: { code?: unknown } };
  // A DOMException (the abort signal's timeout) has a numeric code; its name says what it is.
  const names = [e.name, typeof e.code === "string" ? e.code : undefined, typeof e.cause?.code === "string" ? e.cause.code : undefined].filter(
    (n): n is string => typeof n === "string",
  );
  const has = (...codes: string[]) => names.some((n) => codes.includes(n));
  const error = `${names.filter((n) => n !== "Error").join("/")}${e.message ? `: ${e.message}` : ""}`.slice(0, 200);
  if (has("ECONNREFUSED")) return { outcome: "refused", error };
  if (has("ECONNRESET", "EPIPE", "UND_ERR_SOCKET")) return { outcome: "reset", error };
  if (has("UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "TimeoutError", "ETIMEDOUT", "AbortError")) {
    return { outcome: "timeout", error };
  }
  return { outcome: "error", error };
}
