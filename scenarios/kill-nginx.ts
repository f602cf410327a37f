/**
 * The tutorials' basic test: a master/backup pair whose keepalived tracks nginx with a check script;
 * kill nginx on the master and the VIP moves to the backup.
 */
import { exactlyOneOwner, ownerIs } from "../lab/checkers/vip.ts";
import { firstSuccessByNewOwner, migrationTime } from "../lab/checkers/migration.ts";
import { expectedTrackScriptFailover, OBSERVATION_SLACK_MS } from "../lab/protocol/vrrp-timing.ts";
import { defineScenario } from "../lab/scenario/define.ts";
import type { FaultResult } from "../lab/nemesis/nemesis.ts";

const SCRIPT = { check: "nginx-running", interval: 1, fall: 2, rise: 2, weight: -20 } as const;

export default defineScenario({
  name: "kill-nginx",
  title: "Kill nginx on the master: the check script lowers its priority and the VIP moves to the backup",
  description:
    "lb1 (priority 100) and lb2 (90) run nginx and keepalived; keepalived runs chk_nginx every second and lowers " +
    "lb1's priority by 20 after two failures. nginx on lb1 is killed with SIGKILL. lb1 now advertises 80, which lb2 " +
    "ignores, so lb2 takes the VIP when its Master_Down_Interval runs out.",
  sources: ["001_64df3f5baf0810da.txt", "002_f3707bfeb8276820.txt"],
  topology: {
    name: "kill-nginx",
    keepalived: {
      scripts: { chk_nginx: SCRIPT },
      instances: { VI_1: { virtualRouterId: 51, vips: [100], priorities: { lb1: 100, lb2: 90 }, auth: { type: "PASS", pass: "1111" }, track: ["chk_nginx"] } },
    },
  },
  async run({ fault, lab, vip, remember }) {
    remember("kill", await fault("kill-nginx", "lb1"));
    await lab.waitForVip(vip, "lb2", 15_000);
  },
  checks({ vip, timing, recall }) {
    const t = timing();
    const kill = recall<FaultResult>("kill");
    const expected = expectedTrackScriptFailover({ ...t, intervalMs: SCRIPT.interval * 1000, fall: SCRIPT.fall, weight: SCRIPT.weight })!;
    return [
      migrationTime({ name: "migration", vip, fault: { faultId: kill.faultId }, from: "lb1", to: "lb2", expected, anchor: "effect" }),
      firstSuccessByNewOwner({ name: "first-success-on-lb2", fault: { faultId: kill.faultId }, lb: "lb2", expected: { ...expected, maxMs: expected.maxMs + 1000, formula: `${expected.formula} + the client's 1 s timeout` }, anchor: "effect" }),
      exactlyOneOwner({ name: "one-owner-throughout", vip, window: "throughout", graceMs: OBSERVATION_SLACK_MS }),
      ownerIs({ name: "owner-at-end", vip, node: "lb2", at: "end" }),
    ];
  },
  figures: { migrationMs: "migration", firstSuccessMs: "first-success-on-lb2" },
});
