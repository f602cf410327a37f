/**
 * The master comes back after a power cut: it preempts, taking the VIP back from the backup once its
 * own Master_Down_Interval has run (it ignores the lower-priority adverts it hears meanwhile).
 */
import { migrationTime } from "../lab/checkers/migration.ts";
import { preemption } from "../lab/checkers/preemption.ts";
import { exactlyOneOwner, ownerIs } from "../lab/checkers/vip.ts";
import { Inconclusive, runCheck } from "../lab/checkers/types.ts";
import type { FaultResult } from "../lab/nemesis/nemesis.ts";
import { expectedPreemption, expectedSilentFailover } from "../lab/protocol/vrrp-timing.ts";
import { defineScenario } from "../lab/scenario/define.ts";
import { keepalivedStartAfter } from "./lib/boot.ts";

export default defineScenario({
  name: "preemption",
  title: "Power the master off and on again: the backup takes over, then the master preempts",
  description:
    "lb1 (100) loses power and lb2 (90) takes the VIP after its Master_Down_Interval. lb1 boots again; its keepalived " +
    "starts as BACKUP, discards lb2's lower-priority adverts, and takes the VIP back when its own Master_Down_Interval " +
    "has run. The time keepalived needs to start after power-on is measured, not assumed.",
  sources: ["003_850b227b4f72ab07.txt"],
  topology: { name: "preemption" },
  async run({ fault, lab, vip, remember, sleep }) {
    remember("off", await fault("power-off", "lb1"));
    await lab.waitForVip(vip, "lb2", 15_000);
    await sleep(1000);
    remember("on", await fault("power-on", "lb1"));
    await lab.waitForVip(vip, "lb1", 20_000);
  },
  checks({ vip, timing, recall, ops }) {
    const t = timing();
    const off = recall<FaultResult>("off");
    const on = recall<FaultResult>("on");
    const boot = keepalivedStartAfter(ops, "lb1", on.effectMs);
    return [
      migrationTime({ name: "failover", vip, fault: { faultId: off.faultId }, from: "lb1", to: "lb2", expected: expectedSilentFailover(t), anchor: "effect" }),
      boot === undefined
        ? () => runCheck("preemption", () => { throw new Inconclusive("lb1's keepalived never logged its start after power-on"); })
        : preemption({
            name: "preemption",
            vip,
            node: "lb1",
            recovery: { faultId: on.faultId },
            expected: expectedPreemption({ version: t.version, advertIntMs: t.advertIntMs, backupPriority: t.masterPriority, startedMs: boot }),
            anchor: "effect",
          }),
      exactlyOneOwner({ name: "one-owner-at-end", vip, window: "end" }),
      ownerIs({ name: "owner-at-end", vip, node: "lb1", at: "end" }),
    ];
  },
  figures: { failoverMs: "failover", preemptionMs: "preemption" },
});
