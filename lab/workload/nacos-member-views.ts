/**
 * Every Nacos member's own view of the cluster, about once a second, as `nacos-view` ops: asked
 * inside each member (curl on 127.0.0.1), so it is exact per member and never depends on which member
 * nginx picks — the workload's `cluster-nodes` calls through the VIP see only the member that answers.
 * Checkers judge "the cluster reports the member DOWN, then UP" from these views.
 */
import type { History } from "../history/history.ts";
import type { LabNode } from "../runtime/node-container.ts";

export interface MemberViewsOptions {
  members: ReadonlyArray<{ name: string; node: LabNode }>;
  httpPort: number;
  /** "ip:port" → node name. */
  memberByAddress: ReadonlyMap<string, string>;
  /** Default 1000 ms. */
  periodMs?: number;
}

export class NacosMemberViews {
  private readonly history: History;
  private readonly options: MemberViewsOptions;
  private running = false;
  private loops: Promise<void>[] = [];

  constructor(history: History, options: MemberViewsOptions) {
    this.history = history;
    this.options = options;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loops = this.options.members.map((m) => this.loop(m.name, m.node));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.allSettled(this.loops);
    this.loops = [];
  }

  private async loop(name: string, node: LabNode): Promise<void> {
    const clock = this.history.clock;
    const period = this.options.periodMs ?? 1000;
    while (this.running) {
      const atMs = clock.nowMs();
      let members: Record<string, string> | undefined;
      let error: string | undefined;
      try {
        const r = await node.exec(["curl", "-sS", "-m", "2", `http://127.0.0.1:${this.options.httpPort}/nacos/v1/core/cluster/nodes`], { check: false, timeoutMs: 5000 });
        if (r.exitCode !== 0) error = `curl exited ${r.exitCode}: ${(r.stderr || r.stdout).trim().slice(0, 160)}`;
        else members = parseView(r.stdout, this.options.memberByAddress);
      } catch (err) {
        error = (err as Error).message.slice(0, 200);
      }
      this.history.append({ process: "observer", f: "nacos-view", node: name, atMs, endMs: clock.nowMs(), ...(members ? { members } : {}), ...(error ? { error } : {}) });
      const wait = period - (clock.nowMs() - atMs);
      if (wait > 0 && this.running) await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/** `{ data: [{ address, state }] }` → state by node name (unknown addresses kept as they are). */
export function parseView(body: string, memberByAddress: ReadonlyMap<string, string>): Record<string, string> {
  const data = (JSON.parse(body) as { data?: Array<{ address?: unknown; state?: unknown }> }).data;
  if (!Array.isArray(data)) throw new Error(`cluster/nodes answered without a member list: ${body.slice(0, 120)}`);
  const out: Record<string, string> = {};
  for (const m of data) out[memberByAddress.get(String(m.address)) ?? String(m.address)] = String(m.state);
  return out;
}
