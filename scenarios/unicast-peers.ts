/**
 * A pair configured with unicast peers (unicast_src_ip / unicast_peer) sends its adverts straight to
 * each other's address, not to 224.0.0.18: a firewall rule that blocks only multicast VRRP does not
 * split it.
 */
import { beliefs } from "../lab/checkers/split-brain.ts";
import { ownerIs, splitBrain, vipMoves } from "../lab/checkers/vip.ts";
import type { FaultResult } from "../lab/nemesis/nemesis.ts";
import { masterDownIntervalMs } from "../lab/protocol/vrrp-timing.ts";
import { defineScenario } from "../lab/scenario/define.ts";

export default defineScenario({
  name: "unicast-peers",
  title: "Unicast peers: a rule that blocks only multicast VRRP does not split a unicast pair",
  description:
    "Both nodes drop VRRP sent to the multicast group 224.0.0.18, in and out — the rule that splits a multicast pair " +
    "(see split-brain). This pair uses unicast_peer, so its adverts go to the peer's own address and pass: lb2 keeps " +
    "hearing lb1, nothing moves. Watched for twice the backup's Master_Down_Interval.",
  sources: ["003_850b227b4f72ab07.txt"],
  topology: {
    name: "unicast",
    keepalived: {
      instances: { VI_1: { virtualRouterId: 51, vips: [100], priorities: { lb1: 100, lb2: 90 }, unicast: true, auth: { type: "PASS", pass: "1111" } } },
    },
  },
  async run({ fault, remember, sleep, timing }) {
    remember("block-1", await fault("block-vrrp", "lb1", { direction: "both", multicastOnly: true }));
    remember("block-2", await fault("block-vrrp", "lb2", { direction: "both", multicastOnly: true }));
    await sleep(2 * masterDownIntervalMs(timing()));
    remember("heal", await fault("unblock-vrrp", "lb1"));
  },
  checks({ vip, recall, steadyMs }) {
    const heal = recall<FaultResult>("heal");
    return [
      splitBrain({ name: "no-split-brain", vip, expected: false, fromMs: steadyMs }),
      vipMoves({ name: "vip-never-moves", vip, fromMs: steadyMs, max: 0 }),
      beliefs({ name: "states-while-multicast-is-blocked", instance: "VI_1", atMs: heal.invokeMs, expected: { lb1: "MASTER", lb2: "BACKUP" } }),
      ownerIs({ name: "owner-at-end", vip, node: "lb1", at: "end" }),
    ];
  },
});
