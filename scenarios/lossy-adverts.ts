/**
 * Lossy adverts: the backup loses a random half of the VRRP packets reaching it. Whenever it misses
 * enough in a row for its Master_Down_Interval to run out, it takes the VIP — until the next advert
 * that gets through sends it back. The flaps are counted against what the loss rate predicts.
 */
import { Inconclusive, runCheck } from "../lab/checkers/types.ts";
import { ownerIs } from "../lab/checkers/vip.ts";
import { vipMoveList } from "../lab/checkers/vip.ts";
import type { FaultResult } from "../lab/nemesis/nemesis.ts";
import { expectedFlaps } from "../lab/protocol/vrrp-timing.ts";
import { defineScenario } from "../lab/scenario/define.ts";

const DROP = 0.5;
const DURATION_MS = 20_000;

export default defineScenario({
  name: "lossy-adverts",
  title: "Lossy adverts: the backup drops half the VRRP packets and the VIP flaps as often as the loss rate predicts",
  description:
    "VRRPv3 with 100 ms adverts. lb2 (the backup) drops each arriving VRRP packet with probability 0.5 (iptables " +
    "statistic; these kernels have no netem). With priority 90 its Master_Down_Interval is 364.8 ms, so three lost " +
    "adverts in a row make it take the VIP; the next advert that gets through makes it give the VIP back. The number " +
    "of takeovers in 20 s is compared with the renewal model in lab/protocol/vrrp-timing.ts.",
  topology: {
    name: "lossy",
    keepalived: { version: 3, instances: { VI_1: { virtualRouterId: 51, vips: [100], advertInt: 0.1, priorities: { lb1: 100, lb2: 90 } } } },
  },
  async run({ fault, remember, sleep, lab, vip }) {
    remember("drop", await fault("drop-adverts", "lb2", { probability: DROP }));
    await sleep(DURATION_MS);
    remember("restore", await fault("restore-adverts", "lb2"));
    await lab.waitForVip(vip, "lb1", 5000);
  },
  checks({ vip, timing, recall }) {
    const drop = recall<FaultResult>("drop");
    const restore = recall<FaultResult>("restore");
    const t = timing();
    return [
      (ops) => {
        const model = expectedFlaps({ ...t, dropProbability: DROP, durationMs: restore.effectMs - drop.effectMs });
        const expected = `${model.low}–${model.high} takeovers by lb2: ${model.formula}`;
        return runCheck(
          "flaps-against-loss-rate",
          () => {
            const moves = vipMoveList(ops, vip, drop.effectMs, restore.effectMs);
            if (moves.length === 0 && ops.filter((o) => o.f === "vip").length === 0) throw new Inconclusive("no VIP event at all");
            const takeovers = moves.filter((m) => m.to === "lb2").length;
            return { verdict: takeovers >= model.low && takeovers <= model.high ? "pass" : "fail", measured: takeovers, unit: "count", expected, detail: `${moves.length} holder changes; model mean ${model.mean.toFixed(1)}` };
          },
          { expected, unit: "count" },
        );
      },
      ownerIs({ name: "owner-at-end", vip, node: "lb1", at: "end" }),
    ];
  },
  figures: { takeovers: "flaps-against-loss-rate" },
});
