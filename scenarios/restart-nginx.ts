/**
 * The tutorials' check script: if nginx is gone, start it; if it still does not run 2 s later,
 * stop keepalived. Killed once, nginx comes back and the VIP stays. Unable to start (a broken
 * nginx.conf), keepalived is stopped and the VIP moves.
 */
import { firstSuccessByNewOwner, migrationTime } from "../lab/checkers/migration.ts";
import { ownerIs, vipMoves } from "../lab/checkers/vip.ts";
import { reachesState } from "../lab/checkers/vrrp.ts";
import type { FaultResult } from "../lab/nemesis/nemesis.ts";
import { expectedRestartOrStopFailover } from "../lab/protocol/vrrp-timing.ts";
import { defineScenario } from "../lab/scenario/define.ts";

/**
 * The script sleeps 2 s; it runs every 3 s so that its runs never overlap. With the tutorials' 2 s the
 * next run starts just as the previous one wakes up and re-checks: its `nginx` attempt, a process
 * named nginx for the few milliseconds it takes to fail on the broken config, makes the previous
 * run's `pgrep -x nginx` succeed, so it does not stop keepalived — deferring the failover by an
 * interval (4 of 20 soak runs; keepalived also logs "Track script … already running … skipping run").
 */
const INTERVAL_S = 3;
const SCRIPT_SLEEP_MS = 2000;
/**
 * keepalived kills a check script after `timeout`, which defaults to the interval. The tutorials'
 * script sleeps 2 s with interval 2, so keepalived kills it mid-sleep ("VRRP_Script(chk_nginx)
 * timed_out") before it can stop keepalived; only the failure that the timeout counts as, and the
 * weight, move the VIP then. A timeout longer than the script's own run lets it do its job.
 */
const TIMEOUT_S = 5;

export default defineScenario({
  name: "restart-nginx",
  title: "The restart-or-stop check script: nginx restarted once; when it cannot start, keepalived stops and the VIP moves",
  description:
    "keepalived runs the tutorials' script every 3 s (longer than its own 2 s sleep, so runs never overlap; with the " +
    "tutorials' 2 s, a run's re-check can catch the next run's failing nginx attempt and not stop keepalived). First " +
    "nginx on lb1 is killed: the script starts it again and the " +
    "VIP stays on lb1. Then lb1's nginx.conf is broken and nginx killed again: the script cannot start it, stops " +
    "keepalived (SIGTERM, priority 0) and lb2 takes over after its Skew_Time. The script always exits 0, so keepalived " +
    "never sees it fail: the VIP moves only because the script stops keepalived. The script's timeout is set to 5 s: " +
    "with keepalived's default (the interval, 2 s) it is killed during its own 2 s sleep and never stops keepalived.",
  sources: ["000_9fd1314643ef8be8.txt", "002_f3707bfeb8276820.txt", "003_850b227b4f72ab07.txt"],
  topology: {
    name: "restart-nginx",
    keepalived: {
      scripts: { chk_nginx: { check: "restart-nginx-or-stop-keepalived", interval: INTERVAL_S, timeout: TIMEOUT_S, weight: -20 } },
      instances: { VI_1: { virtualRouterId: 51, vips: [100], priorities: { lb1: 100, lb2: 90 }, auth: { type: "PASS", pass: "1111" }, track: ["chk_nginx"] } },
    },
  },
  async run({ fault, lab, vip, remember, sleep }) {
    remember("kill-once", await fault("kill-nginx", "lb1"));
    // The script runs within one interval, starts nginx, sleeps 2 s and checks: give it one full round more.
    await sleep(2 * INTERVAL_S * 1000 + SCRIPT_SLEEP_MS);
    remember("break", await fault("break-nginx", "lb1"));
    remember("kill-again", await fault("kill-nginx", "lb1"));
    await lab.waitForVip(vip, "lb2", 15_000);
  },
  checks({ vip, timing, recall }) {
    const once = recall<FaultResult>("kill-once");
    const broken = recall<FaultResult>("break");
    const again = recall<FaultResult>("kill-again");
    return [
      vipMoves({ name: "vip-stays-after-one-kill", vip, fromMs: once.invokeMs, toMs: broken.invokeMs, max: 0 }),
      // From the kill's ok (nginx confirmed dead), not its effect: requests started in the moment between
      // labctl's stamp and the signal can still be answered by the old nginx.
      firstSuccessByNewOwner({ name: "lb1-serves-again-after-restart", fault: { faultId: once.faultId }, anchor: "ok", lb: "lb1" }),
      ownerIs({ name: "owner-before-the-break", vip, node: "lb1", at: broken.invokeMs }),
      migrationTime({
        name: "migration-when-nginx-cannot-start",
        vip,
        fault: { faultId: again.faultId },
        from: "lb1",
        to: "lb2",
        expected: expectedRestartOrStopFailover({ ...timing(), intervalMs: INTERVAL_S * 1000, sleepMs: SCRIPT_SLEEP_MS }),
        anchor: "effect",
      }),
      reachesState({ name: "script-stops-keepalived", node: "lb1", instance: "VI_1", to: "STOP", after: { faultId: again.faultId } }),
      ownerIs({ name: "owner-at-end", vip, node: "lb2", at: "end" }),
    ];
  },
  figures: { restartMs: "lb1-serves-again-after-restart", migrationMs: "migration-when-nginx-cannot-start" },
});
