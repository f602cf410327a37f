/**
 * A rogue router: a misconfigured third node joins with the same VRID and a higher priority. The
 * legitimate master hears the higher priority and steps down; the rogue takes the VIP (and the
 * clients, which it cannot serve). The report names the intruder. When it leaves, the pair recovers.
 */
import { migrationTime } from "../lab/checkers/migration.ts";
import { intruders } from "../lab/checkers/split-brain.ts";
import { ownerIs } from "../lab/checkers/vip.ts";
import { Inconclusive, runCheck } from "../lab/checkers/types.ts";
import type { FaultResult } from "../lab/nemesis/nemesis.ts";
import { expectedPreemption, expectedSilentFailover } from "../lab/protocol/vrrp-timing.ts";
import { defineScenario } from "../lab/scenario/define.ts";
import { keepalivedStartAfter } from "./lib/boot.ts";

const ROGUE_PRIORITY = 254;

export default defineScenario({
  name: "rogue-router",
  title: "Rogue router with the same VRID and a higher priority: the pair loses the VIP; the report names the intruder",
  description:
    "A third node, `rogue`, joins the lab network running keepalived with VI_1's VRID, VIP and password but priority " +
    "254 (a copied config, a test box left running). It starts as BACKUP, ignores lb1's lower-priority adverts and " +
    "takes over when its own Master_Down_Interval runs out; lb1 hears the higher priority and steps down. The rogue " +
    "runs no nginx, so clients are refused. When it is removed (silently), lb1 takes the VIP back after its " +
    "Master_Down_Interval.",
  topology: { name: "rogue" },
  async run({ fault, lab, vip, remember, sleep }) {
    remember("join", await fault("join-rogue", "rogue", { priority: ROGUE_PRIORITY }));
    await lab.waitForVip(vip, "rogue", 15_000);
    await sleep(2000);
    remember("leave", await fault("remove-rogue", "rogue"));
    await lab.waitForVip(vip, "lb1", 15_000);
  },
  checks({ vip, timing, recall, ops }) {
    const t = timing();
    const join = recall<FaultResult>("join");
    const leave = recall<FaultResult>("leave");
    const boot = keepalivedStartAfter(ops, "rogue", join.invokeMs);
    return [
      intruders({ name: "intruder", vip, members: ["lb1", "lb2"], expected: ["rogue"] }),
      boot === undefined
        ? () => runCheck("rogue-takes-the-vip", () => { throw new Inconclusive("the rogue's keepalived never logged its start"); })
        : migrationTime({
            name: "rogue-takes-the-vip",
            vip,
            fault: { faultId: join.faultId },
            anchor: "invoke",
            from: "lb1",
            to: "rogue",
            expected: expectedPreemption({ version: t.version, advertIntMs: t.advertIntMs, backupPriority: ROGUE_PRIORITY, startedMs: boot }),
          }),
      migrationTime({ name: "pair-recovers", vip, fault: { faultId: leave.faultId }, anchor: "effect", from: "rogue", to: "lb1", expected: expectedSilentFailover({ ...t, backupPriority: t.masterPriority }) }),
      ownerIs({ name: "owner-at-end", vip, node: "lb1", at: "end" }),
    ];
  },
  figures: { rogueTakeoverMs: "rogue-takes-the-vip", recoveryMs: "pair-recovers" },
});
