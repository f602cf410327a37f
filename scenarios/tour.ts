/**
 * The teaching tour (`failover-lab demo`): on the default topology, kill nginx on the master, start
 * it again, pull the master's plug, power it back on, firewall VRRP (split brain) and heal it — each
 * step announced before it happens and explained afterwards with the measured figures against the
 * protocol's window.
 */
import { migrationTime } from "../lab/checkers/migration.ts";
import { preemption } from "../lab/checkers/preemption.ts";
import { isFailed } from "../lab/checkers/requests.ts";
import { requestOps } from "../lab/checkers/select.ts";
import type { Checker } from "../lab/checkers/types.ts";
import { splitBrainResolution } from "../lab/checkers/split-brain.ts";
import { ownerIs, splitBrain } from "../lab/checkers/vip.ts";
import { type Lang, messages, type StepFigures } from "../lab/demo/messages.ts";
import type { FaultResult } from "../lab/nemesis/nemesis.ts";
import { DEFAULT_CHECK_SCRIPT } from "../lab/topology/validate.ts";
import type { Op } from "../lab/history/ops.ts";
import { expectedPreemption, expectedSilentFailover, expectedSplitBrainResolution, expectedTrackScriptFailover, masterDownIntervalMs, type ExpectedWindow } from "../lab/protocol/vrrp-timing.ts";
import { defineScenario, type ScenarioContext } from "../lab/scenario/define.ts";
import type { InstanceTiming } from "../lab/scenario/timing.ts";
import { keepalivedStartAfter } from "./lib/boot.ts";

type StepKind = keyof (typeof messages extends (l: Lang) => infer M ? M : never)["steps"];

/**
 * One step of the tour: a fault aimed at a node, who must hold the VIP afterwards, the protocol's
 * window for it, and the check the report carries. The demo announces `before` and explains `after`
 * from lab/demo/messages.ts (`steps[kind]`, in every language).
 *
 * The last two steps firewall VRRP (split brain: both nodes MASTER) and heal it.
 */
export interface TourStep {
  kind: StepKind;
  /** The node the fault is aimed at. */
  target(t: InstanceTiming): string;
  /** The fault's parameters. */
  params?: Record<string, string | number | boolean>;
  /** The node that must hold the VIP alone before the step is over… */
  settlesOn(t: InstanceTiming): string;
  /** …or, for a split brain, that this node holds it too (alongside the other). */
  splitsTo?: (t: InstanceTiming) => string;
  /** The protocol's window for the move, from the fault's effect (needs the history for boot times). */
  expected(t: InstanceTiming, ops: readonly Op[], fault: FaultResult): ExpectedWindow;
  /** What the report checks about this step. */
  check(c: { vip: string; t: InstanceTiming; fault: FaultResult; expected: ExpectedWindow }): Checker;
}

const script = DEFAULT_CHECK_SCRIPT;
const master = (t: InstanceTiming) => t.master;
const backup = (t: InstanceTiming) => t.backup;

export const TOUR_STEPS: TourStep[] = [
  {
    kind: "kill-nginx",
    target: master,
    settlesOn: backup,
    expected: (t) => expectedTrackScriptFailover({ ...t, intervalMs: script.interval * 1000, fall: script.fall, weight: script.weight })!,
    check: ({ vip, t, fault, expected }) =>
      migrationTime({ name: "kill-nginx-failover", vip, fault: { faultId: fault.faultId }, anchor: "effect", from: t.master, to: t.backup, expected }),
  },
  {
    kind: "start-nginx",
    target: master,
    settlesOn: master,
    // nginx back: `rise` passing runs (within one interval more), then the master preempts after its Master_Down_Interval.
    expected: (t) => expectedPreemption({ ...t, backupPriority: t.masterPriority, bootMs: script.rise * script.interval * 1000 }),
    check: ({ vip, t, fault, expected }) => preemption({ name: "nginx-back-preempts", vip, node: t.master, recovery: { faultId: fault.faultId }, anchor: "effect", expected }),
  },
  {
    kind: "power-off",
    target: master,
    settlesOn: backup,
    expected: (t) => expectedSilentFailover(t),
    check: ({ vip, t, fault, expected }) =>
      migrationTime({ name: "power-off-failover", vip, fault: { faultId: fault.faultId }, anchor: "effect", from: t.master, to: t.backup, expected }),
  },
  {
    kind: "power-on",
    target: master,
    settlesOn: master,
    expected: (t, ops, on) => {
      const started = keepalivedStartAfter(ops, t.master, on.effectMs);
      return started === undefined
        ? expectedPreemption({ ...t, backupPriority: t.masterPriority, bootMs: masterDownIntervalMs(t) })
        : expectedPreemption({ ...t, backupPriority: t.masterPriority, startedMs: started });
    },
    check: ({ vip, t, fault, expected }) => preemption({ name: "power-on-preempts", vip, node: t.master, recovery: { faultId: fault.faultId }, anchor: "effect", expected }),
  },
  {
    // Firewall VRRP on the master, both ways: the backup hears nothing and becomes master too.
    kind: "block-vrrp",
    target: master,
    params: { direction: "both" },
    settlesOn: master,
    splitsTo: backup,
    expected: (t) => expectedSilentFailover(t),
    check: ({ vip, t, fault, expected }) =>
      migrationTime({ name: "split-brain-begins", vip, fault: { faultId: fault.faultId }, anchor: "effect", to: t.backup, expected }),
  },
  {
    kind: "unblock-vrrp",
    target: master,
    settlesOn: master,
    expected: (t) => expectedSplitBrainResolution(t),
    check: ({ vip, fault, expected }) => splitBrainResolution({ name: "split-brain-resolved", vip, heal: { faultId: fault.faultId }, expected }),
  },
];

async function play(ctx: ScenarioContext, step: TourStep): Promise<void> {
  const m = messages(ctx.lang).steps[step.kind];
  const t = ctx.timing();
  const node = step.target(t);
  const other = node === t.master ? t.backup : t.master;
  const base = { vip: ctx.vip, from: node, to: other, formula: "", minMs: 0, maxMs: 0, measuredMs: null, failed: 0 } satisfies StepFigures;
  ctx.say(m.before(base));
  const fault = await ctx.fault(step.kind, node, step.params);
  const splitTo = step.splitsTo?.(t);
  const heldAt = splitTo
    ? await ctx.lab.waitFor(`${splitTo} holding ${ctx.vip} too`, () => ctx.lab.vips.owners(ctx.vip).includes(splitTo), 30_000)
    : await ctx.lab.waitForVip(ctx.vip, step.settlesOn(t), 30_000);
  await ctx.sleep(1000);
  const ops = ctx.lab.history.ops();
  const window = step.expected(t, ops, fault);
  const failed = requestOps(ops).filter((r) => r.atMs >= fault.invokeMs && isFailed(r)).length;
  const measured = heldAt - fault.effectMs;
  ctx.say(`${m.after({ ...base, measuredMs: measured, minMs: window.minMs, maxMs: window.maxMs, formula: window.formula, failed })} — ${messages(ctx.lang).verdict(measured >= window.minMs && measured <= window.maxMs)}`);
  ctx.remember(step.kind, fault);
}

export default defineScenario({
  name: "tour",
  title: "The teaching tour: kill nginx, restart it, power the master off and on, split brain and heal, with every step explained",
  description:
    "The demo (`failover-lab demo`, also in Simplified Chinese with --lang zh-CN) on the default topology: each step is " +
    "announced, run against real daemons, and explained with the measured time against the protocol's window.",
  sources: ["000_9fd1314643ef8be8.txt", "001_64df3f5baf0810da.txt", "002_f3707bfeb8276820.txt", "003_850b227b4f72ab07.txt"],
  topology: { name: "demo" },
  async run(ctx) {
    const m = messages(ctx.lang);
    ctx.say(m.steady(ctx.vip, ctx.lab.currentOwner(ctx.vip) ?? "?"));
    for (const step of TOUR_STEPS) await play(ctx, step);
    const reqs = requestOps(ctx.lab.history.ops());
    ctx.say(m.done(reqs.filter(isFailed).length, reqs.length));
  },
  checks({ vip, timing, recall, ops }) {
    const t = timing();
    const checks: Checker[] = TOUR_STEPS.map((step) => {
      const fault = recall<FaultResult>(step.kind);
      return step.check({ vip, t, fault, expected: step.expected(t, ops, fault) });
    });
    checks.push(splitBrain({ name: "split-brain-while-vrrp-is-firewalled", vip, expected: true, fromMs: recall<FaultResult>("block-vrrp").effectMs }));
    checks.push(ownerIs({ name: "owner-at-end", vip, node: t.master, at: "end" }));
    return checks;
  },
  figures: { killNginxFailoverMs: "kill-nginx-failover", powerOffFailoverMs: "power-off-failover", preemptionMs: "power-on-preempts", splitBrainMs: "split-brain-while-vrrp-is-firewalled", splitBrainResolutionMs: "split-brain-resolved" },
});
