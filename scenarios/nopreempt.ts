/**
 * nopreempt: the master comes back after a power cut and does NOT take the VIP back; the node
 * that took over keeps it (one move instead of two).
 */
import { migrationTime } from "../lab/checkers/migration.ts";
import { noPreemption } from "../lab/checkers/preemption.ts";
import { ownerIs } from "../lab/checkers/vip.ts";
import type { FaultResult } from "../lab/nemesis/nemesis.ts";
import { expectedSilentFailover, masterDownIntervalMs } from "../lab/protocol/vrrp-timing.ts";
import { defineScenario } from "../lab/scenario/define.ts";

export default defineScenario({
  name: "nopreempt",
  title: "nopreempt: the recovered master leaves the VIP where it is",
  description:
    "Both nodes start in state BACKUP with nopreempt (keepalived ignores nopreempt with state MASTER, a mistake in one " +
    "tutorial). Whoever wins the start-up election is the master; it loses power and the other takes over. When it " +
    "boots again it hears the current master and stays BACKUP, although its priority is higher or equal. It is watched " +
    "for twice the time preemption would have taken.",
  sources: ["003_850b227b4f72ab07.txt"],
  topology: {
    name: "nopreempt",
    keepalived: {
      instances: { VI_1: { virtualRouterId: 51, vips: [100], priorities: { lb1: 100, lb2: 90 }, nopreempt: true, auth: { type: "PASS", pass: "1111" } } },
    },
  },
  async run({ fault, lab, vip, remember, sleep, timing }) {
    const first = lab.currentOwner(vip)!;
    const other = first === "lb1" ? "lb2" : "lb1";
    remember("first", first);
    remember("other", other);
    remember("off", await fault("power-off", first));
    await lab.waitForVip(vip, other, 15_000);
    remember("on", await fault("power-on", first));
    const t = timing();
    // Preemption would take keepalived's start plus the returning node's Master_Down_Interval; watch twice that.
    await sleep(2 * (1000 + masterDownIntervalMs({ ...t, backupPriority: Math.max(t.masterPriority, t.backupPriority) })));
  },
  checks({ vip, timing, recall, lab }) {
    const first = recall<string>("first");
    const other = recall<string>("other");
    const off = recall<FaultResult>("off");
    const on = recall<FaultResult>("on");
    const otherPriority = lab.instance().members.find((m) => m.node === other)!.priority;
    return [
      migrationTime({ name: "failover", vip, fault: { faultId: off.faultId }, from: first, to: other, expected: expectedSilentFailover({ ...timing(), backupPriority: otherPriority }), anchor: "effect" }),
      noPreemption({ name: "no-preemption", vip, node: other, after: { faultId: on.faultId }, anchor: "effect" }),
      ownerIs({ name: "owner-at-end", vip, node: other, at: "end" }),
    ];
  },
  figures: { failoverMs: "failover" },
});
