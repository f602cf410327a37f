/**
 * The seed document's whole setup: a keepalived pair of LVS directors (DR, persistence_timeout 5,
 * TCP_CHECK) in front of a pair of nginx servers that proxy to the web backends — and its two tests:
 * "shut down the LVS master, then start it again" and "shut down one nginx server, then start it
 * again", which the document says have no impact on clients.
 */
import { outageAfter, realServerAdded, realServerRemoved } from "../lab/checkers/lvs.ts";
import { migrationTime } from "../lab/checkers/migration.ts";
import { preemption } from "../lab/checkers/preemption.ts";
import { servedBy, zeroErrors } from "../lab/checkers/requests.ts";
import { Inconclusive, runCheck } from "../lab/checkers/types.ts";
import { ownerIs } from "../lab/checkers/vip.ts";
import { parseEpochRealtime } from "../lab/history/clock.ts";
import type { RequestOp } from "../lab/history/ops.ts";
import type { FaultResult } from "../lab/nemesis/nemesis.ts";
import { expectedRealServerRemoval, expectedRealServerReturn, withEngineSlack } from "../lab/protocol/lvs-timing.ts";
import { expectedPreemption, expectedSilentFailover } from "../lab/protocol/vrrp-timing.ts";
import { defineScenario } from "../lab/scenario/define.ts";
import { keepalivedStartAfter } from "./lib/boot.ts";
import { checkTiming, engineSlack, realServer, virtualService, waitForFirstChecks, waitForTableChange } from "./lib/lvs.ts";

/** The client's timeout: a request into a black hole fails after it. 3 s, as a TCG guest's client now and then needs
 * close to a second for a request on a busy machine (p99 0.9–1.0 s measured); the host's engine needs far less. */
const TIMEOUT_MS = 3000;

export default defineScenario({
  name: "lvs-full-stack",
  title: "The document's stack: LVS directors (keepalived, DR) → nginx pair → web backends; both of its tests",
  description:
    "lvs1 and lvs2 run the seed's keepalived.conf: VRRP VI_1 (VRID 51, 100 / 50) and virtual_server .150:80 with " +
    "lb_kind DR, lb_algo rr, persistence_timeout 5 and a TCP_CHECK (delay_loop 6, connect_timeout 2, delay_before_retry 3, " +
    "and retry 1 — what keepalived makes of the document's `nb_get_retry 2`, a keyword TCP_CHECK does not have). The real " +
    "servers are nginx1 and nginx2 (nginx only, the VIP on lo, arp_ignore 1 / arp_announce 2), proxying to web1 and web2. " +
    "Test 1: lvs1 loses power — lvs2 takes over — and boots again — lvs1 preempts. Test 2: the nginx server the client is " +
    "persistent to is shut down (power off: its checks now time out instead of being refused) and started again. The " +
    "document says neither is noticed; the lab measures for how long each is.",
  sources: ["004_3049287fd684d864.txt"],
  topology: {
    name: "lvs-full-stack",
    director: { lvs1: {}, lvs2: {} },
    lb: { nginx1: {}, nginx2: {} },
    web: { web1: {}, web2: {} },
    lvs: {
      mode: "DR",
      algo: "rr",
      persistenceTimeout: 5,
      check: { type: "TCP_CHECK", delayLoop: 6, connectTimeout: 2, retry: 1, delayBeforeRetry: 3 },
      vrrp: { priorities: { lvs1: 100, lvs2: 50 } },
    },
  },
  requests: [{ ratePerSecond: 10, timeoutMs: TIMEOUT_MS }],
  async run({ fault, lab, vip, remember, sleep }) {
    // Test 1: the LVS master loses power, then comes back.
    remember("off", await fault("power-off", "lvs1"));
    await lab.waitForVip(vip, "lvs2", 30_000);
    await sleep(2000);
    const on = await fault("power-on", "lvs1");
    remember("on", on);
    await lab.waitForVip(vip, "lvs1", 60_000);
    // Test 2 is the document's "one nginx goes down" in lvs1's steady state: its restarted checkers first
    // end their first attempts (until then one failure removes a server, without the retry).
    await waitForFirstChecks(lab, "lvs1");
    await sleep(2000);
    // Test 2: the nginx server the client is persistent to now is shut down, then started again.
    const last = lab.history.ops().filter((o): o is RequestOp => o.f === "request" && o.outcome === "ok" && o.lb !== undefined).at(-1);
    if (!last?.lb) throw new Error("no request was served by an nginx real server after lvs1 came back");
    remember("nginx", last.lb);
    const down = await fault("power-off", last.lb);
    remember("down", down);
    const removal = expectedRealServerRemoval(checkTiming(lab), "silent", engineSlack(lab));
    await waitForTableChange(lab, "lvs1", last.lb, "Removing", down.invokeMs, removal.maxMs + 10_000);
    await sleep(2000);
    const up = await fault("power-on", last.lb);
    remember("up", up);
    await waitForTableChange(lab, "lvs1", last.lb, "Adding", up.invokeMs, 60_000);
    // When nginx started in its new boot: labctl's stamp in the node's boot log.
    const boot = await lab.node(last.lb).readFile("/var/log/lab/boot.log");
    const stamp = [...boot.matchAll(/^effect (\d+\.\d+)$/gm)].at(-1)?.[1];
    if (stamp) remember("nginxStartMs", lab.clock.fromEpochMicros(parseEpochRealtime(stamp)!));
    await sleep(2000);
  },
  checks({ vip, timing, recall, lab, ops }) {
    const t = timing();
    const slack = engineSlack(lab);
    const off = recall<FaultResult>("off");
    const on = recall<FaultResult>("on");
    const nginx = recall<string>("nginx");
    const down = recall<FaultResult>("down");
    const up = recall<FaultResult>("up");
    const failover = withEngineSlack(expectedSilentFailover(t), slack);
    const boot = keepalivedStartAfter(ops, "lvs1", on.effectMs);
    const back = boot === undefined ? undefined : withEngineSlack(expectedPreemption({ version: t.version, advertIntMs: t.advertIntMs, backupPriority: t.masterPriority, startedMs: boot }), slack);
    const removal = expectedRealServerRemoval(checkTiming(lab), "silent", slack);
    let nginxStartMs: number | undefined;
    try {
      nginxStartMs = recall<number>("nginxStartMs");
    } catch {
      nginxStartMs = undefined;
    }
    const plusTimeout = (w: { minMs: number; maxMs: number; formula: string }) => ({ ...w, maxMs: w.maxMs + TIMEOUT_MS, formula: `${w.formula} + the client's ${TIMEOUT_MS} ms timeout` });
    const rs = { virtualService: virtualService(lab), realServer: realServer(lab, nginx), anchor: "effect" as const };
    return [
      zeroErrors({ name: "no-errors-before-the-tests", toMs: off.invokeMs }),
      migrationTime({ name: "test1-vip-to-lvs2", vip, fault: { faultId: off.faultId }, from: "lvs1", to: "lvs2", expected: failover, anchor: "effect" }),
      outageAfter({ name: "test1-outage-power-off", fault: { faultId: off.faultId }, anchor: "effect", expected: plusTimeout(failover), toMs: on.invokeMs }),
      back === undefined
        ? () => runCheck("test1-lvs1-preempts", () => { throw new Inconclusive("lvs1's keepalived never logged its start after power-on"); })
        : preemption({ name: "test1-lvs1-preempts", vip, node: "lvs1", recovery: { faultId: on.faultId }, expected: back, anchor: "effect" }),
      outageAfter({ name: "test1-outage-power-on", fault: { faultId: on.faultId }, anchor: "effect", expected: plusTimeout(back ?? failover), toMs: down.invokeMs }),
      realServerRemoved({ name: "test2-nginx-removed", director: "lvs1", fault: { faultId: down.faultId }, check: checkTiming(lab), failure: "silent", slack, ...rs }),
      outageAfter({ name: "test2-outage-nginx-down", fault: { faultId: down.faultId }, anchor: "effect", expected: plusTimeout(removal), toMs: up.invokeMs }),
      nginxStartMs === undefined
        ? () => runCheck("test2-nginx-added-back", () => { throw new Inconclusive(`${nginx}'s boot log has no start of nginx after power-on`); })
        : realServerAdded({ name: "test2-nginx-added-back", director: "lvs1", fault: { faultId: up.faultId }, fromMs: nginxStartMs, fromWhat: `nginx's start on ${nginx} after power-on`, expected: expectedRealServerReturn(checkTiming(lab), slack), ...rs }),
      servedBy({ name: "nginx1-serves", lb: "nginx1" }),
      servedBy({ name: "nginx2-serves", lb: "nginx2" }),
      servedBy({ name: "web1-serves", backend: "web1" }),
      servedBy({ name: "web2-serves", backend: "web2" }),
      ownerIs({ name: "lvs1-holds-the-vip-at-end", vip, node: "lvs1", at: "end" }),
    ];
  },
  figures: {
    failoverMs: "test1-vip-to-lvs2",
    powerOffOutageMs: "test1-outage-power-off",
    preemptionMs: "test1-lvs1-preempts",
    powerOnOutageMs: "test1-outage-power-on",
    removalMs: "test2-nginx-removed",
    nginxDownOutageMs: "test2-outage-nginx-down",
    returnMs: "test2-nginx-added-back",
  },
});
