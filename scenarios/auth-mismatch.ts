/**
 * An authentication mismatch: the backup gets another auth_pass. Each side now discards the other's
 * adverts as invalid, so the backup becomes master too: split brain, with keepalived's own complaint
 * quoted from its log. Restoring the password resolves it.
 */
import { migrationTime } from "../lab/checkers/migration.ts";
import { logQuote, splitBrainResolution } from "../lab/checkers/split-brain.ts";
import { ownerIs, splitBrain } from "../lab/checkers/vip.ts";
import type { FaultResult } from "../lab/nemesis/nemesis.ts";
import { expectedPreemption } from "../lab/protocol/vrrp-timing.ts";
import { defineScenario } from "../lab/scenario/define.ts";
import { keepalivedStartAfter } from "./lib/boot.ts";
import { Inconclusive, runCheck } from "../lab/checkers/types.ts";

export default defineScenario({
  name: "auth-mismatch",
  title: "Authentication mismatch: each node discards the other's adverts — split brain, in keepalived's own words",
  description:
    "VRRPv2 PASS authentication: lb2's auth_pass is changed and its keepalived restarted. lb2 starts as BACKUP, discards " +
    "lb1's adverts for their password and, hearing no valid master, takes the VIP after its Master_Down_Interval; lb1 " +
    "discards lb2's the same way and stays master. Both log why. When lb2 gets its password back, the pair agrees again.",
  topology: { name: "auth", client: true },
  async run({ fault, lab, vip, remember, sleep }) {
    remember("mismatch", await fault("set-auth", "lb2", { pass: "wrongpw" }));
    await lab.waitFor(`lb2 holding ${vip} too`, () => lab.vips.owners(vip).length === 2, 20_000);
    await sleep(3000);
    remember("restore", await fault("restore-auth", "lb2"));
    await lab.waitForVip(vip, "lb1", 15_000);
  },
  checks({ vip, timing, recall, ops }) {
    const t = timing();
    const mismatch = recall<FaultResult>("mismatch");
    const restore = recall<FaultResult>("restore");
    const boot = keepalivedStartAfter(ops, "lb2", mismatch.effectMs);
    return [
      splitBrain({ name: "split-brain", vip, expected: true }),
      boot === undefined
        ? () => runCheck("lb2-takes-the-vip-too", () => { throw new Inconclusive("lb2's keepalived never logged its restart"); })
        : migrationTime({
            name: "lb2-takes-the-vip-too",
            vip,
            fault: { faultId: mismatch.faultId },
            anchor: "effect",
            to: "lb2",
            expected: expectedPreemption({ version: t.version, advertIntMs: t.advertIntMs, backupPriority: t.backupPriority, startedMs: boot }),
          }),
      logQuote({ name: "lb2-complains", node: "lb2", pattern: "passw|authentication", fromMs: mismatch.effectMs }),
      logQuote({ name: "lb1-complains", node: "lb1", pattern: "passw|authentication", fromMs: mismatch.effectMs }),
      splitBrainResolution({ name: "resolution-after-restore", vip, heal: { faultId: restore.faultId }, expected: { minMs: 0, maxMs: 1000, formula: "lb2's keepalived stops gracefully (its VIP goes) as it restarts with the right password" } }),
      ownerIs({ name: "owner-at-end", vip, node: "lb1", at: "end" }),
    ];
  },
  figures: { splitBrainMs: "split-brain", resolutionMs: "resolution-after-restore" },
});
