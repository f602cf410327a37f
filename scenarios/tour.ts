/**
 * The teaching tour (`failover-lab demo`): on the default topology, kill nginx on the master, start
 * it again, pull the master's plug, power it back on — each step announced before it happens and
 * explained afterwards with the measured figures against the protocol's window.
 */
import { migrationTime } from "../lab/checkers/migration.ts";
import { preemption } from "../lab/checkers/preemption.ts";
import { isFailed } from "../lab/checkers/requests.ts";
import { requestOps } from "../lab/checkers/select.ts";
import type { Checker } from "../lab/checkers/types.ts";
import { ownerIs } from "../lab/checkers/vip.ts";
import { type Lang, messages, type StepFigures } from "../lab/demo/messages.ts";
import type { FaultResult } from "../lab/nemesis/nemesis.ts";
import { DEFAULT_CHECK_SCRIPT } from "../lab/topology/validate.ts";
import { expectedPreemption, expectedSilentFailover, expectedTrackScriptFailover, masterDownIntervalMs, type ExpectedWindow } from "../lab/protocol/vrrp-timing.ts";
import { defineScenario, type ScenarioContext } from "../lab/scenario/define.ts";
import type { InstanceTiming } from "../lab/scenario/timing.ts";
import { keepalivedStartAfter } from "./lib/boot.ts";

type StepKind = keyof (typeof messages extends (l: Lang) => infer M ? M : never)["steps"];

/** Windows of each step, from the protocol. */
function windows(t: InstanceTiming) {
  const script = DEFAULT_CHECK_SCRIPT;
  return {
    "kill-nginx": expectedTrackScriptFailover({ ...t, intervalMs: script.interval * 1000, fall: script.fall, weight: script.weight })!,
    // nginx back: `rise` passing runs (within one interval more), then lb1 preempts after its Master_Down_Interval.
    "start-nginx": expectedPreemption({ ...t, backupPriority: t.masterPriority, bootMs: script.rise * script.interval * 1000 }),
    "power-off": expectedSilentFailover(t),
  } satisfies Partial<Record<StepKind, ExpectedWindow>>;
}

async function step(ctx: ScenarioContext, kind: StepKind, node: string, waitFor: string, expected: (r: FaultResult) => ExpectedWindow): Promise<FaultResult> {
  const m = messages(ctx.lang).steps[kind];
  const t = ctx.timing();
  const other = node === t.master ? t.backup : t.master;
  const base = { vip: ctx.vip, from: node, to: other, formula: "", minMs: 0, maxMs: 0, measuredMs: null, failed: 0 } satisfies StepFigures;
  ctx.say(m.before(base));
  const fault = await ctx.fault(kind, node);
  const heldAt = await ctx.lab.waitForVip(ctx.vip, waitFor, 30_000);
  await ctx.sleep(1000);
  const window = expected(fault);
  const ops = ctx.lab.history.ops();
  const failed = requestOps(ops).filter((r) => r.atMs >= fault.invokeMs && isFailed(r)).length;
  const measured = heldAt - fault.effectMs;
  ctx.say(`${m.after({ ...base, measuredMs: measured, minMs: window.minMs, maxMs: window.maxMs, formula: window.formula, failed })} — ${messages(ctx.lang).verdict(measured >= window.minMs && measured <= window.maxMs)}`);
  ctx.remember(kind, fault);
  return fault;
}

export default defineScenario({
  name: "tour",
  title: "The teaching tour: kill nginx, restart it, power the master off and on, with every step explained",
  description:
    "The demo (`failover-lab demo`, also in Simplified Chinese with --lang zh-CN) on the default topology: each step is " +
    "announced, run against real daemons, and explained with the measured time against the protocol's window.",
  sources: ["000_9fd1314643ef8be8.txt", "001_64df3f5baf0810da.txt", "002_f3707bfeb8276820.txt", "003_850b227b4f72ab07.txt"],
  topology: { name: "demo" },
  async run(ctx) {
    const m = messages(ctx.lang);
    ctx.say(m.steady(ctx.vip, ctx.lab.currentOwner(ctx.vip) ?? "?"));
    const t = ctx.timing();
    const w = windows(t);
    await step(ctx, "kill-nginx", t.master, t.backup, () => w["kill-nginx"]);
    await step(ctx, "start-nginx", t.master, t.master, () => w["start-nginx"]);
    await step(ctx, "power-off", t.master, t.backup, () => w["power-off"]);
    await step(ctx, "power-on", t.master, t.master, (on) => {
      const boot = keepalivedStartAfter(ctx.lab.history.ops(), t.master, on.effectMs) ?? 0;
      return expectedPreemption({ ...t, backupPriority: t.masterPriority, bootMs: boot });
    });
    const ops = ctx.lab.history.ops();
    const reqs = requestOps(ops);
    ctx.say(m.done(reqs.filter(isFailed).length, reqs.length));
  },
  checks({ vip, timing, recall, ops }) {
    const t = timing();
    const w = windows(t);
    const kill = recall<FaultResult>("kill-nginx");
    const start = recall<FaultResult>("start-nginx");
    const off = recall<FaultResult>("power-off");
    const on = recall<FaultResult>("power-on");
    const boot = keepalivedStartAfter(ops, t.master, on.effectMs) ?? masterDownIntervalMs(t);
    const checks: Checker[] = [
      migrationTime({ name: "kill-nginx-failover", vip, fault: { faultId: kill.faultId }, anchor: "effect", from: t.master, to: t.backup, expected: w["kill-nginx"] }),
      preemption({ name: "nginx-back-preempts", vip, node: t.master, recovery: { faultId: start.faultId }, anchor: "effect", expected: w["start-nginx"] }),
      migrationTime({ name: "power-off-failover", vip, fault: { faultId: off.faultId }, anchor: "effect", from: t.master, to: t.backup, expected: w["power-off"] }),
      preemption({ name: "power-on-preempts", vip, node: t.master, recovery: { faultId: on.faultId }, anchor: "effect", expected: expectedPreemption({ ...t, backupPriority: t.masterPriority, bootMs: boot }) }),
      ownerIs({ name: "owner-at-end", vip, node: t.master, at: "end" }),
    ];
    return checks;
  },
  figures: { killNginxFailoverMs: "kill-nginx-failover", powerOffFailoverMs: "power-off-failover", preemptionMs: "power-on-preempts" },
});
