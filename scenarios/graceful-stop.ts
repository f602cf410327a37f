/**
 * Stop keepalived on the master gracefully (SIGTERM, `service keepalived stop`): it sends a
 * priority-0 advert, and the backup takes over after only its Skew_Time.
 */
import { firstSuccessByNewOwner, migrationTime } from "../lab/checkers/migration.ts";
import { zeroErrors } from "../lab/checkers/requests.ts";
import { exactlyOneOwner, ownerIs } from "../lab/checkers/vip.ts";
import type { FaultResult } from "../lab/nemesis/nemesis.ts";
import { expectedGracefulFailover } from "../lab/protocol/vrrp-timing.ts";
import { defineScenario } from "../lab/scenario/define.ts";

const TIMEOUT_MS = 2000;

export default defineScenario({
  name: "graceful-stop",
  title: "Stop keepalived on the master: priority 0, failover after Skew_Time",
  description:
    "keepalived on lb1 receives SIGTERM: it sends an advert with priority 0 and removes the VIP. lb2 then waits only its " +
    "Skew_Time ((256 − 90)/256 s with VRRPv2) before taking over. The client's timeout is 2 s, longer than Linux's first " +
    "SYN retransmission (1 s), so a connection attempt that falls into the gap is retried and lands on lb2.",
  sources: ["003_850b227b4f72ab07.txt"],
  topology: { name: "graceful-stop" },
  requests: [{ timeoutMs: TIMEOUT_MS }],
  async run({ fault, lab, vip, remember, sleep }) {
    remember("stop", await fault("stop-keepalived", "lb1"));
    await lab.waitForVip(vip, "lb2", 10_000);
    await sleep(TIMEOUT_MS + 1000); // judge requests started after the move, each given its full timeout
  },
  checks({ vip, timing, recall, lab }) {
    const stop = recall<FaultResult>("stop");
    const expected = expectedGracefulFailover(timing());
    const acquired = lab.history.ops().find((o) => o.f === "vip" && o.event === "acquired" && o.node === "lb2" && o.atMs >= stop.invokeMs);
    return [
      migrationTime({ name: "migration", vip, fault: { faultId: stop.faultId }, from: "lb1", to: "lb2", expected, anchor: "effect" }),
      firstSuccessByNewOwner({ name: "first-success-on-lb2", fault: { faultId: stop.faultId }, lb: "lb2", anchor: "effect" }),
      zeroErrors({ name: "no-errors-before-the-fault", toMs: stop.invokeMs }),
      zeroErrors({ name: "no-errors-once-lb2-holds-the-vip", fromMs: (acquired?.atMs ?? Infinity) + TIMEOUT_MS }),
      exactlyOneOwner({ name: "one-owner-at-end", vip, window: "end" }),
      ownerIs({ name: "owner-at-end", vip, node: "lb2", at: "end" }),
    ];
  },
  figures: { migrationMs: "migration", firstSuccessMs: "first-success-on-lb2" },
});
