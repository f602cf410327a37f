/**
 * An L4 (`stream`) proxy pair on port 88, as in the tutorial: nginx forwards TCP to web01/web02,
 * keepalived tracks nginx with a script that exits 1 when nginx is gone, and the VIP moves when
 * nginx dies on the master.
 */
import { firstSuccessByNewOwner, migrationTime } from "../lab/checkers/migration.ts";
import { exactlyOneOwner, ownerIs, splitBrain } from "../lab/checkers/vip.ts";
import type { FaultResult } from "../lab/nemesis/nemesis.ts";
import { expectedTrackScriptFailover } from "../lab/protocol/vrrp-timing.ts";
import { defineScenario } from "../lab/scenario/define.ts";

export default defineScenario({
  name: "stream-l4",
  title: "L4 stream proxy on port 88: kill nginx on the master and the VIP moves, as with the L7 pair",
  description:
    "nginx's stream module proxies TCP port 88 to the web nodes. The check script has no weight (the tutorial sets " +
    "none), so when it fails keepalived puts the instance in FAULT state and sends priority 0: lb2 takes over after its " +
    "Skew_Time instead of a full Master_Down_Interval. The load balancer that served a request is known from the " +
    "address the backend saw (L4 proxies cannot add headers).",
  sources: ["001_64df3f5baf0810da.txt"],
  topology: {
    name: "stream-l4",
    nginx: { mode: "stream", listen: 88 },
    keepalived: {
      scripts: { check_nginx: { check: "nginx-running", interval: 1 } },
      instances: { VI_1: { virtualRouterId: 51, vips: [60], priorities: { lb1: 100, lb2: 90 }, auth: { type: "PASS", pass: "1111" }, track: ["check_nginx"] } },
    },
  },
  async run({ fault, lab, vip, remember }) {
    remember("kill", await fault("kill-nginx", "lb1"));
    await lab.waitForVip(vip, "lb2", 10_000);
  },
  checks({ vip, timing, recall, steadyMs }) {
    const kill = recall<FaultResult>("kill");
    const expected = expectedTrackScriptFailover({ ...timing(), intervalMs: 1000, fall: 1, weight: 0 })!;
    return [
      migrationTime({ name: "migration", vip, fault: { faultId: kill.faultId }, from: "lb1", to: "lb2", expected, anchor: "effect" }),
      firstSuccessByNewOwner({ name: "first-success-on-lb2", fault: { faultId: kill.faultId }, lb: "lb2", expected: { ...expected, maxMs: expected.maxMs + 1000, formula: `${expected.formula} + the client's 1 s timeout` }, anchor: "effect" }),
      // FAULT removes the VIP at once and the backup waits Skew_Time: a gap with no owner is the protocol, two owners never are.
      // From the steady state on: at start-up keepalived begins as BACKUP on both nodes, and when lb2's timer runs out
      // first, lb1 preempts it — adding the VIP before lb2 has heard its advert (0.6 ms of two owners, measured in CI).
      splitBrain({ name: "never-two-owners", vip, expected: false, fromMs: steadyMs }),
      exactlyOneOwner({ name: "one-owner-at-end", vip, window: "end" }),
      ownerIs({ name: "owner-at-end", vip, node: "lb2", at: "end" }),
    ];
  },
  figures: { migrationMs: "migration", firstSuccessMs: "first-success-on-lb2" },
});
