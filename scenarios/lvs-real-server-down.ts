/**
 * The seed's second test: stop nginx on one real server. keepalived's TCP_CHECK on both directors
 * notices and takes it out of the virtual service; until then IPVS still sends it clients.
 */
import { ipvsTableHolds, realServerAdded, realServerRemoved, tableChanges } from "../lab/checkers/lvs.ts";
import { notServedBy, servedBy, zeroErrors } from "../lab/checkers/requests.ts";
import type { FaultResult } from "../lab/nemesis/nemesis.ts";
import { expectedRealServerRemoval, expectedRealServerReturn } from "../lab/protocol/lvs-timing.ts";
import { defineScenario } from "../lab/scenario/define.ts";
import { checkTiming, engineSlack, readyAnchor, realServer, virtualService, waitForTableChange } from "./lib/lvs.ts";

/** The client's timeout: a request into a black hole fails after it. 3 s, as a TCG guest's client now and then needs
 * close to a second for a request on a busy machine (p99 0.9–1.0 s measured); the host's engine needs far less. */
const TIMEOUT_MS = 3000;

export default defineScenario({
  name: "lvs-real-server-down",
  title: "LVS-DR: stop nginx on a real server; the health check takes it out of IPVS, and back in when it returns",
  description:
    "The seed's TCP_CHECK (delay_loop 6, connect_timeout 2, delay_before_retry 3) with the two retries the document meant " +
    "(its `nb_get_retry 2` is not a TCP_CHECK keyword; here it is written `retry 2`). nginx on web1 stops: its port refuses " +
    "connections at once, but IPVS keeps sending web1 its share of new clients — refused — until keepalived's check has " +
    "failed retry + 1 times in a row and removes it, on both directors. After that no request reaches web1 and none fails. " +
    "nginx starts again and the next check adds web1 back.",
  sources: ["004_3049287fd684d864.txt"],
  topology: {
    name: "lvs-rs-down",
    lb: {},
    web: { web1: {}, web2: {} },
    director: { lvs1: {}, lvs2: {} },
    lvs: { mode: "DR", algo: "rr", check: { type: "TCP_CHECK", delayLoop: 6, connectTimeout: 2, retry: 2, delayBeforeRetry: 3 }, vrrp: { priorities: { lvs1: 100, lvs2: 50 } } },
  },
  requests: [{ ratePerSecond: 10, timeoutMs: TIMEOUT_MS }],
  async run({ fault, lab, remember, sleep }) {
    const removal = expectedRealServerRemoval(checkTiming(lab), "refused", engineSlack(lab));
    const stop = await fault("stop-nginx", "web1");
    remember("stop", stop);
    await waitForTableChange(lab, "lvs1", "web1", "Removing", stop.invokeMs, removal.maxMs + 10_000);
    await waitForTableChange(lab, "lvs2", "web1", "Removing", stop.invokeMs, removal.maxMs + 10_000);
    await sleep(3000);
    const start = await fault("start-nginx", "web1");
    remember("start", start);
    const back = expectedRealServerReturn(checkTiming(lab), engineSlack(lab));
    await waitForTableChange(lab, "lvs1", "web1", "Adding", start.invokeMs, back.maxMs + 10_000);
    await sleep(3000);
  },
  checks({ recall, lab, ops }) {
    const stop = recall<FaultResult>("stop");
    const start = recall<FaultResult>("start");
    const timing = checkTiming(lab);
    const slack = engineSlack(lab);
    const back = expectedRealServerReturn(timing, slack);
    const vs = virtualService(lab);
    const web1 = realServer(lab, "web1");
    const web2 = realServer(lab, "web2");
    const removedAt = tableChanges(ops, "lvs1", web1, vs, "Removing").find((o) => o.atMs >= stop.invokeMs)?.atMs ?? Infinity;
    const common = { virtualService: vs, realServer: web1, anchor: "effect" as const };
    return [
      realServerRemoved({ name: "lvs1-removes-web1", director: "lvs1", fault: { faultId: stop.faultId }, check: timing, failure: "refused", slack, ...common }),
      realServerRemoved({ name: "lvs2-removes-web1", director: "lvs2", fault: { faultId: stop.faultId }, check: timing, failure: "refused", slack, ...common }),
      zeroErrors({ name: "no-errors-before-the-stop", toMs: stop.invokeMs }),
      // Requests already in flight when web1 left may still fail: one client timeout after the removal.
      zeroErrors({ name: "no-errors-once-web1-is-out", fromMs: removedAt + TIMEOUT_MS, toMs: start.invokeMs }),
      notServedBy({ name: "web1-gets-nothing-while-out", backend: "web1", fromMs: removedAt, toMs: start.invokeMs }),
      realServerAdded({ name: "lvs1-adds-web1-back", director: "lvs1", fault: { faultId: start.faultId }, expected: back, ...common, ...readyAnchor(start, "web1") }),
      servedBy({ name: "web1-serves-again", backend: "web1", fromMs: start.doneMs }),
      ipvsTableHolds({ name: "lvs1-table-at-end", director: "lvs1", virtualService: vs, realServers: [web1, web2] }),
      ipvsTableHolds({ name: "lvs2-table-at-end", director: "lvs2", virtualService: vs, realServers: [web1, web2] }),
    ];
  },
  figures: { removalMs: "lvs1-removes-web1", returnMs: "lvs1-adds-web1-back" },
});
