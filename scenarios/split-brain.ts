/**
 * VRRP firewalled both ways between the pair: each stops hearing the other, so the backup becomes
 * master too — both hold the VIP, and clients follow whichever answered their last ARP. Heal it and
 * the VRRP rules pick one owner: the higher priority.
 */
import { arpFlips, staleArp } from "../lab/checkers/arp.ts";
import { migrationTime } from "../lab/checkers/migration.ts";
import { servedBy } from "../lab/checkers/requests.ts";
import { beliefs, splitBrainResolution } from "../lab/checkers/split-brain.ts";
import { ownerIs, splitBrain } from "../lab/checkers/vip.ts";
import type { FaultResult } from "../lab/nemesis/nemesis.ts";
import { expectedStaleArpBound } from "../lab/protocol/neighbour.ts";
import { expectedSilentFailover, expectedSplitBrainResolution } from "../lab/protocol/vrrp-timing.ts";
import { defineScenario } from "../lab/scenario/define.ts";

export default defineScenario({
  name: "split-brain",
  title: "VRRP firewalled both ways: both nodes MASTER, clients flip between them; heal: one owner, by the rules",
  description:
    "lb1 drops every VRRP packet in and out (as a firewall without the tutorial's `--protocol vrrp -j ACCEPT` rule " +
    "would). lb2 hears no advert for its Master_Down_Interval and becomes master too: both hold the VIP. The client " +
    "sends to whichever MAC answered its last ARP — each new master's gratuitous ARPs, and keepalived's second burst " +
    "5 s later (garp_master_delay), move it back and forth. When the rules are removed, lb2 hears lb1's higher " +
    "priority at its next advert and steps down; lb1, hearing a lower-priority master, re-announces the VIP.",
  sources: ["002_f3707bfeb8276820.txt"],
  topology: { name: "split-brain", client: true },
  async run({ fault, lab, vip, remember, sleep }) {
    remember("block", await fault("block-vrrp", "lb1", { direction: "both" }));
    await lab.waitFor(`lb2 holding ${vip} too`, () => lab.vips.owners(vip).length === 2, 15_000);
    await sleep(6000); // past keepalived's second gratuitous ARP burst (garp_master_delay, 5 s)
    remember("heal", await fault("unblock-vrrp", "lb1"));
    await lab.waitForVip(vip, "lb1", 10_000);
    await sleep(2000);
  },
  checks({ vip, timing, recall, lab }) {
    const t = timing();
    const block = recall<FaultResult>("block");
    const heal = recall<FaultResult>("heal");
    const timers = lab.clientArp.timers ?? { delayFirstProbeMs: 5000, ucastSolicit: 3, mcastSolicit: 3, retransMs: 1000 };
    const staleBound = expectedStaleArpBound(timers);
    return [
      migrationTime({ name: "split-brain-begins", vip, fault: { faultId: block.faultId }, anchor: "effect", to: "lb2", expected: expectedSilentFailover(t) }),
      splitBrain({ name: "split-brain", vip, expected: true }),
      beliefs({ name: "both-believe-they-are-master", instance: "VI_1", atMs: heal.invokeMs, expected: { lb1: "MASTER", lb2: "MASTER" } }),
      servedBy({ name: "clients-reach-lb2-during-split", lb: "lb2", fromMs: block.effectMs, toMs: heal.invokeMs }),
      servedBy({ name: "clients-reach-lb1-during-split", lb: "lb1", fromMs: block.effectMs + 3000, toMs: heal.invokeMs }),
      arpFlips({ name: "client-arp-flips-during-split", vip, fromMs: block.effectMs, toMs: heal.invokeMs, min: 1 }),
      splitBrainResolution({ name: "resolution-after-heal", vip, heal: { faultId: heal.faultId }, expected: expectedSplitBrainResolution(t) }),
      ownerIs({ name: "owner-by-the-rules", vip, node: t.master, at: "end" }),
      // Whether the client is stranded after the heal is a race: if lb1's advert reaches lb2 first, lb2
      // steps down silently, lb1 never hears a lower priority and never re-announces, and the client's
      // kernel must find out by itself. The bound is its own ARP timers.
      staleArp({ name: "client-stale-arp-after-heal", vip, fromMs: heal.effectMs, maxMs: staleBound.maxMs, expectedText: `≤ ${staleBound.maxMs} ms: ${staleBound.formula}` }),
    ];
  },
  figures: { splitBrainMs: "split-brain", resolutionMs: "resolution-after-heal", staleArpMs: "client-stale-arp-after-heal", arpFlips: "client-arp-flips-during-split" },
});
