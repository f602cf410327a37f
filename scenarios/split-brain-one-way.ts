/**
 * VRRP firewalled one way only. Blocking the backup's adverts to the master changes nothing (a
 * backup does not advertise). Blocking the master's adverts to the backup splits the pair for good:
 * the backup hears nothing and becomes master; the master hears a lower-priority master, discards
 * its adverts and stays master. The report says who believes what and why, from their own logs.
 */
import { splitBrainResolution, beliefs } from "../lab/checkers/split-brain.ts";
import { ownerIs, splitBrain, vipMoves } from "../lab/checkers/vip.ts";
import { logQuote } from "../lab/checkers/split-brain.ts";
import type { FaultResult } from "../lab/nemesis/nemesis.ts";
import { expectedSplitBrainResolution, masterDownIntervalMs } from "../lab/protocol/vrrp-timing.ts";
import { defineScenario } from "../lab/scenario/define.ts";

export default defineScenario({
  name: "split-brain-one-way",
  title: "VRRP firewalled one way: backup→master changes nothing; master→backup makes two masters, each with its reason",
  description:
    "First lb1 drops VRRP from lb2: lb2 is a backup and sends nothing, so nothing changes. Then, instead, lb2 drops " +
    "VRRP from lb1: lb2 hears no master and takes over; lb1 keeps hearing lb2's adverts at priority 90, lower than " +
    "its own, so it stays master. RFC 5798 §6.4.3 says to discard such adverts; keepalived instead logs \"forcing new " +
    "election\" and answers each with its own advert and a burst of gratuitous ARPs — which lb2 never hears. Two " +
    "masters, each right by what it hears, and the clients pulled to lb1 every second.",
  sources: ["002_f3707bfeb8276820.txt"],
  topology: { name: "split-one-way", client: true },
  async run({ fault, lab, vip, remember, sleep, timing }) {
    const mdi = masterDownIntervalMs(timing());
    remember("mute-backup", await fault("block-vrrp", "lb1", { direction: "in", peer: "lb2" }));
    await sleep(2 * mdi); // twice as long as any takeover would take
    remember("unmute-backup", await fault("unblock-vrrp", "lb1"));
    remember("mute-master", await fault("block-vrrp", "lb2", { direction: "in", peer: "lb1" }));
    await lab.waitFor(`lb2 holding ${vip} too`, () => lab.vips.owners(vip).length === 2, 15_000);
    await sleep(3000);
    remember("heal", await fault("unblock-vrrp", "lb2"));
    await lab.waitForVip(vip, "lb1", 10_000);
  },
  checks({ vip, timing, recall }) {
    const t = timing();
    const muteBackup = recall<FaultResult>("mute-backup");
    const unmute = recall<FaultResult>("unmute-backup");
    const muteMaster = recall<FaultResult>("mute-master");
    const heal = recall<FaultResult>("heal");
    return [
      vipMoves({ name: "blocking-the-backup-changes-nothing", vip, fromMs: muteBackup.invokeMs, toMs: unmute.doneMs, max: 0 }),
      beliefs({ name: "beliefs-with-the-backup-muted", instance: "VI_1", atMs: unmute.invokeMs, expected: { lb1: "MASTER", lb2: "BACKUP" } }),
      splitBrain({ name: "blocking-the-master-splits", vip, expected: true }),
      beliefs({ name: "beliefs-with-the-master-muted", instance: "VI_1", atMs: heal.invokeMs, expected: { lb1: "MASTER", lb2: "MASTER" } }),
      logQuote({ name: "lb1-hears-a-lower-priority-master", node: "lb1", pattern: "lower priority 90, ours 100", fromMs: muteMaster.effectMs }),
      splitBrainResolution({ name: "resolution-after-heal", vip, heal: { faultId: heal.faultId }, expected: expectedSplitBrainResolution(t) }),
      ownerIs({ name: "owner-by-the-rules", vip, node: t.master, at: "end" }),
    ];
  },
  figures: { splitBrainMs: "blocking-the-master-splits", resolutionMs: "resolution-after-heal" },
});
