/**
 * Freeze the master (every process stopped, as a hung machine): the backup takes over as after a
 * power cut. Thawed, the master still believes it is master; its next advert makes the backup step
 * down. A frozen container's kernel keeps the VIP on its interface, so two nodes hold it meanwhile.
 */
import { migrationTime } from "../lab/checkers/migration.ts";
import { preemption } from "../lab/checkers/preemption.ts";
import { exactlyOneOwner, ownerIs, splitBrain } from "../lab/checkers/vip.ts";
import type { FaultResult } from "../lab/nemesis/nemesis.ts";
import { expectedResumedMasterPreemption, expectedSilentFailover } from "../lab/protocol/vrrp-timing.ts";
import { defineScenario } from "../lab/scenario/define.ts";

export default defineScenario({
  name: "freeze",
  title: "Freeze the master: the backup takes over; thaw it: it preempts at its next advert",
  description:
    "lb1's processes are frozen (cgroup freezer), so its keepalived stops advertising and lb2 takes over after its " +
    "Master_Down_Interval. Unlike a powered-off machine, a frozen container's network namespace lives on in the shared " +
    "kernel: the VIP stays configured on lb1's interface, so both nodes hold it until the thaw (the report shows the " +
    "span). Thawed, lb1 sends its overdue advert with priority 100 and lb2 steps down.",
  sources: ["002_f3707bfeb8276820.txt"],
  topology: { name: "freeze" },
  async run({ fault, lab, vip, remember, sleep }) {
    remember("freeze", await fault("freeze", "lb1"));
    await lab.waitFor(`lb2 holding ${vip}`, () => lab.vips.owners(vip).includes("lb2"), 15_000);
    await sleep(1000);
    remember("thaw", await fault("thaw", "lb1"));
    await lab.waitForVip(vip, "lb1", 10_000);
  },
  checks({ vip, timing, recall }) {
    const t = timing();
    const freeze = recall<FaultResult>("freeze");
    const thaw = recall<FaultResult>("thaw");
    return [
      migrationTime({ name: "failover", vip, fault: { faultId: freeze.faultId }, to: "lb2", expected: expectedSilentFailover(t), anchor: "effect" }),
      splitBrain({ name: "frozen-node-keeps-the-vip", vip, expected: true }),
      preemption({ name: "preemption-on-thaw", vip, node: "lb1", recovery: { faultId: thaw.faultId }, expected: expectedResumedMasterPreemption(t), anchor: "effect" }),
      exactlyOneOwner({ name: "one-owner-at-end", vip, window: "end" }),
      ownerIs({ name: "owner-at-end", vip, node: "lb1", at: "end" }),
    ];
  },
  figures: { failoverMs: "failover", preemptionMs: "preemption-on-thaw", splitBrainMs: "frozen-node-keeps-the-vip" },
});
