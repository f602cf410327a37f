/**
 * Power off the master (no goodbye packets): the backup takes over when its Master_Down_Interval
 * runs out, and the clients' errors in between are measured.
 */
import { firstSuccessByNewOwner, migrationTime } from "../lab/checkers/migration.ts";
import { zeroErrors } from "../lab/checkers/requests.ts";
import { exactlyOneOwner, ownerIs } from "../lab/checkers/vip.ts";
import type { FaultResult } from "../lab/nemesis/nemesis.ts";
import { expectedSilentFailover } from "../lab/protocol/vrrp-timing.ts";
import { defineScenario } from "../lab/scenario/define.ts";

export default defineScenario({
  name: "power-off",
  title: "Power off the master: the backup takes the VIP after Master_Down_Interval",
  description:
    "lb1 (priority 100) is killed outright, as when a machine loses power: no priority-0 advert, no gratuitous ARP. " +
    "lb2 (90) hears nothing more and takes over when its Master_Down_Interval (3 × advert_int + Skew_Time) has passed " +
    "since lb1's last advert. Clients see errors until lb2's gratuitous ARPs point them to it.",
  sources: ["002_f3707bfeb8276820.txt"],
  topology: { name: "power-off" },
  async run({ fault, lab, vip, remember }) {
    remember("off", await fault("power-off", "lb1"));
    await lab.waitForVip(vip, "lb2", 15_000);
  },
  checks({ vip, timing, recall, lab }) {
    const off = recall<FaultResult>("off");
    const expected = expectedSilentFailover(timing());
    const timeoutMs = 1000;
    const acquired = lab.history.ops().find((o) => o.f === "vip" && o.event === "acquired" && o.node === "lb2" && o.atMs >= off.invokeMs);
    const recoveredFrom = (acquired?.atMs ?? Infinity) + timeoutMs;
    return [
      migrationTime({ name: "migration", vip, fault: { faultId: off.faultId }, from: "lb1", to: "lb2", expected, anchor: "effect" }),
      firstSuccessByNewOwner({ name: "first-success-on-lb2", fault: { faultId: off.faultId }, lb: "lb2", expected: { ...expected, maxMs: expected.maxMs + timeoutMs, formula: `${expected.formula} + the client's 1 s timeout` }, anchor: "effect" }),
      zeroErrors({ name: "no-errors-before-the-fault", toMs: off.invokeMs }),
      zeroErrors({ name: "no-errors-once-lb2-holds-the-vip", fromMs: recoveredFrom }),
      exactlyOneOwner({ name: "one-owner-at-end", vip, window: "end" }),
      ownerIs({ name: "owner-at-end", vip, node: "lb2", at: "end" }),
    ];
  },
  figures: { migrationMs: "migration", firstSuccessMs: "first-success-on-lb2" },
});
