/**
 * Dual master: two VRRP instances with opposite priorities, so each node is master of one VIP and
 * both carry traffic. Power one off: the survivor holds both VIPs. Power it on: each VIP returns.
 */
import { migrationTime } from "../lab/checkers/migration.ts";
import { preemption } from "../lab/checkers/preemption.ts";
import { ownerIs, vipMoves } from "../lab/checkers/vip.ts";
import type { FaultResult } from "../lab/nemesis/nemesis.ts";
import { expectedPreemption, expectedSilentFailover } from "../lab/protocol/vrrp-timing.ts";
import { defineScenario } from "../lab/scenario/define.ts";
import { keepalivedStartAfter } from "./lib/boot.ts";
import { Inconclusive, runCheck } from "../lab/checkers/types.ts";

export default defineScenario({
  name: "dual-master",
  title: "Dual master: each node masters one VIP; power one off and the other holds both; power it on and each returns",
  description:
    "VI_1 (VIP .100) prefers lb1 (100 over 90) and VI_2 (VIP .101) prefers lb2, as in the tutorial's 双主热备. A client " +
    "stream runs against each VIP. lb1 loses power: lb2 takes VIP .100 after its Master_Down_Interval and keeps .101 " +
    "throughout. lb1 boots again and takes .100 back; .101 never moves.",
  sources: ["004_3049287fd684d864.txt"],
  topology: {
    name: "dual-master",
    keepalived: {
      instances: {
        VI_1: { virtualRouterId: 51, vips: [100], priorities: { lb1: 100, lb2: 90 }, auth: { type: "PASS", pass: "1111" } },
        VI_2: { virtualRouterId: 52, vips: [101], priorities: { lb1: 90, lb2: 100 }, auth: { type: "PASS", pass: "2222" } },
      },
    },
  },
  requests: [{ name: "VI_1" }, { name: "VI_2" }],
  async run({ fault, lab, remember, sleep }) {
    const [vip1, vip2] = [lab.instance("VI_1").vips[0]!, lab.instance("VI_2").vips[0]!];
    remember("off", await fault("power-off", "lb1"));
    await lab.waitForVip(vip1, "lb2", 15_000);
    await lab.waitForVip(vip2, "lb2", 1_000);
    await sleep(1000);
    remember("on", await fault("power-on", "lb1"));
    await lab.waitForVip(vip1, "lb1", 20_000);
  },
  checks({ lab, timing, recall, ops, steadyMs }) {
    const [vip1, vip2] = [lab.instance("VI_1").vips[0]!, lab.instance("VI_2").vips[0]!];
    const t1 = timing("VI_1");
    const off = recall<FaultResult>("off");
    const on = recall<FaultResult>("on");
    const boot = keepalivedStartAfter(ops, "lb1", on.effectMs);
    return [
      migrationTime({ name: "VI_1-failover", vip: vip1, fault: { faultId: off.faultId }, from: "lb1", to: "lb2", expected: expectedSilentFailover(t1), anchor: "effect" }),
      ownerIs({ name: "lb2-holds-both-after-failover", vip: vip2, node: "lb2", at: on.invokeMs }),
      boot === undefined
        ? () => runCheck("VI_1-returns", () => { throw new Inconclusive("lb1's keepalived never logged its start after power-on"); })
        : preemption({ name: "VI_1-returns", vip: vip1, node: "lb1", recovery: { faultId: on.faultId }, expected: expectedPreemption({ version: t1.version, advertIntMs: t1.advertIntMs, backupPriority: t1.masterPriority, startedMs: boot }), anchor: "effect" }),
      // From the steady state on: at start-up whichever node boots first may hold a VIP until preempted.
      vipMoves({ name: "VI_2-never-moves", vip: vip2, fromMs: steadyMs, max: 0 }),
      ownerIs({ name: "VI_1-owner-at-end", vip: vip1, node: "lb1", at: "end" }),
      ownerIs({ name: "VI_2-owner-at-end", vip: vip2, node: "lb2", at: "end" }),
    ];
  },
  figures: { failoverMs: "VI_1-failover", preemptionMs: "VI_1-returns" },
});
