/**
 * A Nacos workload through the VIP, as the microservices of the source documents use it: register
 * instances and send their heartbeats, list them, publish and read configs, ask the cluster how its
 * members are — over Nacos' open API (HTTP 8848, undici) — and check the client gRPC port (9848)
 * with a ServerCheck. Every call is a `nacos` op in the history.
 *
 * Why the open API and not the npm `nacos` client: every call maps to exactly one op with its
 * outcome, status and the load balancer and member that answered (X-Lab-LB, X-Lab-Upstream), and
 * nothing retries behind the lab's back (a client library fails over between server addresses and
 * retries by itself, which hides exactly what the lab measures).
 *
 * Loops are closed (the next call of a loop starts when the previous one ended, at its period at
 * the soonest), each call on a new connection, so every call asks "can a new client reach Nacos
 * through the VIP now?". Writes of one dataId are sequential (one loop writes them all), which makes
 * "the last acknowledged value" well defined.
 */
import { Agent, request } from "undici";
import { LabError } from "../errors.ts";
import type { History } from "../history/history.ts";
import type { NacosOp, NacosOperation, NewOp, RequestOutcome } from "../history/ops.ts";
import { acceptableFinalValues } from "../checkers/nacos.ts";
import { grpcServerCheck } from "./nacos-grpc.ts";
import { classify } from "./request-stream.ts";

export interface NacosWorkloadOptions {
  /** The VIP; every call goes there and nowhere else. */
  vip: string;
  httpPort: number;
  grpcPort: number;
  /** "ip:port" of each member → its node name (X-Lab-Upstream, cluster views). */
  memberByAddress: ReadonlyMap<string, string>;
  /** Instances to register and keep alive ("ip:port"). Default: none. */
  instances?: string[];
  /** A call that has not completed after this long is a timeout. Default 2000 ms. */
  timeoutMs?: number;
  /** Config dataIds written in turn (lab-0 … lab-<n−1>). Default 8. */
  dataIds?: number;
  group?: string;
  service?: string;
  /** Loop periods, ms. */
  periods?: Partial<Record<"config" | "naming" | "cluster" | "grpc", number>>;
}

export const NACOS_DEFAULT_PERIODS = { config: 250, naming: 500, cluster: 1000, grpc: 2000 } as const;

interface Answer {
  status: number;
  text: string;
  lb: string | undefined;
  member: string | undefined;
  triedFirst: string[];
}

/** One op's fields beyond the common ones. */
type OpFields = Partial<Omit<NacosOp, "index" | "atMs" | "endMs" | "process" | "f" | "operation" | "outcome">>;

export class NacosWorkload {
  readonly base: string;
  readonly timeoutMs: number;
  readonly group: string;
  readonly service: string;
  private readonly history: History;
  private readonly options: NacosWorkloadOptions;
  private readonly periods: Record<"config" | "naming" | "cluster" | "grpc", number>;
  private readonly dataIds: string[];
  private readonly agent: Agent;
  private running = false;
  private loops: Promise<void>[] = [];
  private seq = 0;
  /** Instances registered (ok) since their last "not found". */
  private readonly registered = new Set<string>();

  constructor(history: History, options: NacosWorkloadOptions) {
    this.history = history;
    this.options = options;
    this.timeoutMs = options.timeoutMs ?? 2000;
    if (!(this.timeoutMs >= 100 && this.timeoutMs <= 60_000)) throw new LabError(`Nacos call timeout must be between 100 ms and 60 s, got ${this.timeoutMs}`);
    this.base = `http://${options.vip}:${options.httpPort}/nacos`;
    this.group = options.group ?? "LAB";
    this.service = options.service ?? "lab-svc";
    this.periods = { ...NACOS_DEFAULT_PERIODS, ...options.periods };
    const n = options.dataIds ?? 8;
    if (!(Number.isInteger(n) && n >= 1 && n <= 1000)) throw new LabError(`dataIds must be an integer between 1 and 1000, got ${n}`);
    this.dataIds = Array.from({ length: n }, (_, i) => `lab-${i}`);
    this.agent = new Agent({ connect: { timeout: this.timeoutMs }, connections: 32, pipelining: 1, keepAliveTimeout: 1, keepAliveMaxTimeout: 1 });
  }

  /** Start every loop (no-op when running). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loops = [
      this.loop(this.periods.config, (i) => this.configStep(i)),
      ...((this.options.instances ?? []).length ? [this.loop(this.periods.naming, (i) => this.namingStep(i))] : []),
      this.loop(this.periods.cluster, () => this.clusterNodes().then(() => undefined)),
      this.loop(this.periods.grpc, () => this.serverCheck()),
    ];
  }

  /** Stop the loops and wait for their calls in flight. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.allSettled(this.loops);
    this.loops = [];
  }

  /** Release the connection pool (after stop and verify). */
  async close(): Promise<void> {
    await this.stop();
    await this.agent.close().catch(() => undefined);
  }

  /**
   * The end-of-run verification: read back every dataId that had an acknowledged write, through the
   * VIP, as `final` ops; a key whose read does not yet show an acceptable value (the last acknowledged
   * one, or one written after it whose outcome was unknown) is read again, until `convergeMs` (Nacos
   * members serve configs from a cache each one updates asynchronously after a write). The checker
   * judges the last final read of each key.
   */
  async verify(convergeMs = 10_000): Promise<{ keys: number; reads: number }> {
    if (this.running) throw new LabError("stop the Nacos workload before verifying it");
    const expected = acceptableFinalValues(this.history.ops().filter((o): o is NacosOp => o.f === "nacos"));
    let reads = 0;
    const t0 = this.history.clock.nowMs();
    for (const [key, acceptable] of expected) {
      for (;;) {
        const op = await this.getConfig(key, "final");
        reads++;
        const done = op.outcome === "ok" && op.found === true && acceptable.has(op.value ?? "");
        if (done || this.history.clock.nowMs() - t0 > convergeMs) break;
        await sleep(200);
      }
    }
    return { keys: expected.size, reads };
  }

  private async loop(periodMs: number, step: (i: number) => Promise<void>): Promise<void> {
    const clock = this.history.clock;
    for (let i = 0; this.running; i++) {
      const t0 = clock.nowMs();
      await step(i);
      const wait = periodMs - (clock.nowMs() - t0);
      if (wait > 0 && this.running) await sleep(wait);
    }
  }

  /**
   * Publish the next value of one dataId, then read another one (through whichever member nginx
   * picks): the dataId written longest ago, as a service reads configuration others wrote. Not the
   * one just written: a member answers a read that races the dump of a fresh write with HTTP 409
   * ("requested file is being modified, please try later"), seen here on a loaded machine.
   */
  private async configStep(i: number): Promise<void> {
    const key = this.dataIds[i % this.dataIds.length]!;
    const value = `${key}=${++this.seq}`;
    await this.publish(key, value);
    await this.getConfig(this.dataIds[(i + 1) % this.dataIds.length]!);
  }

  /** Register each instance once (again after Nacos forgot it), otherwise heartbeat and list in turn. */
  private async namingStep(i: number): Promise<void> {
    const instances = this.options.instances ?? [];
    const instance = instances[i % instances.length]!;
    if (!this.registered.has(instance)) await this.register(instance);
    else if (i % 2 === 0) await this.beat(instance);
    else await this.list();
  }

  async publish(key: string, value: string): Promise<NacosOp> {
    return this.call("publish", "POST", "/v1/cs/configs", { dataId: key, group: this.group, content: value }, { key, value }, (a) => (a.text.trim() === "true" ? {} : { bad: `answered ${JSON.stringify(a.text.slice(0, 80))}, not true` }));
  }

  async getConfig(key: string, phase?: "final"): Promise<NacosOp> {
    return this.call("get-config", "GET", "/v1/cs/configs", { dataId: key, group: this.group }, { key, ...(phase ? { phase } : {}) }, (a) =>
      a.status === 404 ? { extra: { found: false } } : { extra: { found: true, value: a.text } },
    );
  }

  async register(instance: string): Promise<NacosOp> {
    const [ip, port] = splitInstance(instance);
    const op = await this.call("register", "POST", "/v1/ns/instance", { serviceName: this.service, groupName: this.group, ip, port, ephemeral: "true" }, { key: this.service, instance }, (a) =>
      a.text.trim() === "ok" ? {} : { bad: `answered ${JSON.stringify(a.text.slice(0, 80))}, not ok` },
    );
    if (op.outcome === "ok") this.registered.add(instance);
    return op;
  }

  async beat(instance: string): Promise<NacosOp> {
    const [ip, port] = splitInstance(instance);
    const op = await this.call("beat", "PUT", "/v1/ns/instance/beat", { serviceName: this.service, groupName: this.group, ip, port }, { key: this.service, instance }, (a) => {
      const code = (parseJson(a.text) as { code?: number } | undefined)?.code;
      // 20404: Nacos does not know the instance (it expired); register it again.
      if (code === 20404) return { extra: { found: false } };
      return code === 10200 ? { extra: { found: true } } : { bad: `answered code ${code ?? a.text.slice(0, 80)}` };
    });
    if (op.outcome === "ok" && op.found === false) this.registered.delete(instance);
    return op;
  }

  async list(): Promise<NacosOp> {
    return this.call("list", "GET", "/v1/ns/instance/list", { serviceName: this.service, groupName: this.group, healthyOnly: "false" }, { key: this.service }, (a) => {
      const hosts = (parseJson(a.text) as { hosts?: Array<{ ip?: string; port?: number }> } | undefined)?.hosts;
      if (!Array.isArray(hosts)) return { bad: `answered without hosts: ${a.text.slice(0, 80)}` };
      return { extra: { instances: hosts.map((h) => `${h.ip}:${h.port}`).sort() } };
    });
  }

  async clusterNodes(): Promise<NacosOp> {
    return this.call("cluster-nodes", "GET", "/v1/core/cluster/nodes", {}, {}, (a) => {
      const data = (parseJson(a.text) as { data?: Array<{ address?: string; state?: string }> } | undefined)?.data;
      if (!Array.isArray(data)) return { bad: `answered without a member list: ${a.text.slice(0, 80)}` };
      const members: Record<string, string> = {};
      for (const m of data) members[this.options.memberByAddress.get(String(m.address)) ?? String(m.address)] = String(m.state);
      return { extra: { members } };
    });
  }

  /** gRPC ServerCheck on the client gRPC port, through the VIP (nginx's stream upstream). */
  async serverCheck(): Promise<void> {
    const atMs = this.history.clock.nowMs();
    try {
      const a = await grpcServerCheck(this.options.vip, this.options.grpcPort, this.timeoutMs);
      const result = (parseJson(a.body ?? "") as { resultCode?: number; connectionId?: string } | undefined) ?? {};
      const ok = a.grpcStatus === 0 && a.type === "ServerCheckResponse" && result.resultCode === 200;
      this.record("server-check", atMs, ok ? "ok" : "http-error", {
        status: a.grpcStatus,
        ...(ok ? {} : { error: `grpc-status ${a.grpcStatus}${a.grpcMessage ? ` ${a.grpcMessage}` : ""}, ${a.type ?? "no payload"} ${(a.body ?? "").slice(0, 120)}` }),
      });
    } catch (err) {
      const { outcome, error } = classify(err);
      this.record("server-check", atMs, outcome, { error });
    }
  }

  private async call(
    operation: NacosOperation,
    method: "GET" | "POST" | "PUT",
    path: string,
    params: Record<string, string>,
    fields: OpFields,
    judge: (a: Answer) => { bad?: string; extra?: OpFields },
  ): Promise<NacosOp> {
    const atMs = this.history.clock.nowMs();
    const query = new URLSearchParams(params);
    const url = `${this.base}${path}${method === "GET" && query.size ? `?${query}` : ""}`;
    try {
      const res = await request(url, {
        method,
        dispatcher: this.agent,
        reset: true,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
        signal: AbortSignal.timeout(this.timeoutMs),
        ...(method !== "GET" ? { body: query.toString(), headers: { "content-type": "application/x-www-form-urlencoded" } } : {}),
      });
      const text = await res.body.text();
      const header = (name: string) => {
        const v = res.headers[name];
        return Array.isArray(v) ? v[0] : v;
      };
      const tried = parseUpstreamAddr(header("x-lab-upstream") ?? "").map((a) => this.options.memberByAddress.get(a) ?? a);
      const answer: Answer = { status: res.statusCode, text, lb: header("x-lab-lb"), member: tried.at(-1), triedFirst: tried.slice(0, -1) };
      const served = { status: res.statusCode, ...(answer.lb ? { lb: answer.lb } : {}), ...(answer.member ? { member: answer.member } : {}), ...(answer.triedFirst.length ? { triedFirst: answer.triedFirst } : {}) };
      const acceptable = (res.statusCode >= 200 && res.statusCode < 300) || (operation === "get-config" && res.statusCode === 404);
      if (!acceptable) return this.record(operation, atMs, "http-error", { ...fields, ...served, error: `HTTP ${res.statusCode}: ${text.slice(0, 160)}` });
      const verdict = judge(answer);
      if (verdict.bad) return this.record(operation, atMs, "http-error", { ...fields, ...served, error: verdict.bad });
      return this.record(operation, atMs, "ok", { ...fields, ...served, ...verdict.extra });
    } catch (err) {
      const { outcome, error } = classify(err);
      return this.record(operation, atMs, outcome, { ...fields, error });
    }
  }

  private record(operation: NacosOperation, atMs: number, outcome: RequestOutcome, fields: OpFields): NacosOp {
    const op = { process: "client", f: "nacos", operation, atMs, endMs: this.history.clock.nowMs(), outcome, ...fields } as const;
    this.history.append(op as NewOp);
    return { ...op, index: -1 } as NacosOp;
  }
}

/** The addresses nginx tried, in order (`$upstream_addr`: "a:p, b:p", groups after redirects with " : "). */
export function parseUpstreamAddr(value: string): string[] {
  return value
    .split(/\s*[,:]\s+/)
    .map((s) => s.trim())
    .filter((s) => /^\d+\.\d+\.\d+\.\d+:\d+$/.test(s));
}

function splitInstance(instance: string): [string, string] {
  const m = /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(instance);
  if (!m) throw new LabError(`instance "${instance}" is not ip:port`);
  return [m[1]!, m[2]!];
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
