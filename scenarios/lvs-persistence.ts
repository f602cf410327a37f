/**
 * persistence_timeout, in NAT mode with an HTTP_GET check: each client stays on its real server
 * while that server is alive; when it fails, its clients move and stay where they moved.
 */
import { ipvsTableHolds, realServerAdded, realServerRemoved, stickyClients, tableChanges } from "../lab/checkers/lvs.ts";
import { notServedBy, zeroErrors } from "../lab/checkers/requests.ts";
import { Inconclusive, runCheck } from "../lab/checkers/types.ts";
import { vipMoves } from "../lab/checkers/vip.ts";
import type { RequestOp } from "../lab/history/ops.ts";
import type { FaultResult } from "../lab/nemesis/nemesis.ts";
import { expectedRealServerRemoval, expectedRealServerReturn } from "../lab/protocol/lvs-timing.ts";
import { defineScenario } from "../lab/scenario/define.ts";
import { checkTiming, engineSlack, readyAnchor, realServer, virtualService, waitForTableChange } from "./lib/lvs.ts";

/** The client's timeout: a request into a black hole fails after it. 3 s, as a TCG guest's client now and then needs
 * close to a second for a request on a busy machine (p99 0.9–1.0 s measured); the host's engine needs far less. */
const TIMEOUT_MS = 3000;

export default defineScenario({
  name: "lvs-persistence",
  title: "LVS-NAT with persistence_timeout 5: each client keeps its real server while it is alive, and moves only when it fails",
  description:
    "Two clients (two addresses of the client node, requests alternating) reach a NAT virtual service (lb_algo rr, the " +
    "seed's persistence_timeout 5, an HTTP_GET check of / every 2 s). IPVS keeps a template per client address, so every " +
    "request of a client goes to the same real server while requests keep coming — round robin applies to new clients " +
    "only. The directors rewrite both ways: the real servers see the clients' own addresses and answer through the VIP. " +
    "nginx on the first client's server stops; keepalived's HTTP_GET removes it, which invalidates that client's template: " +
    "it moves to the other server and stays there — also after its old server is added back, since its new template " +
    "never expires while it keeps sending.",
  sources: ["004_3049287fd684d864.txt"],
  topology: {
    name: "lvs-persistence",
    lb: {},
    web: { web1: {}, web2: {} },
    director: { lvs1: {}, lvs2: {} },
    lvs: {
      mode: "NAT",
      algo: "rr",
      persistenceTimeout: 5,
      check: { type: "HTTP_GET", path: "/", statusCode: 200, delayLoop: 2, connectTimeout: 1, retry: 1, delayBeforeRetry: 1 },
      vrrp: { priorities: { lvs1: 100, lvs2: 50 } },
    },
  },
  requests: [{ clients: 2, ratePerSecond: 10, timeoutMs: TIMEOUT_MS }],
  async run({ fault, lab, remember, sleep }) {
    await sleep(6000);
    const first = lab.topology.client!.address;
    const served = lab.history.ops().find((o): o is RequestOp => o.f === "request" && o.outcome === "ok" && o.source === first && o.backend !== undefined);
    if (!served) throw new Error(`client ${first} was not served in its first 6 s`);
    const node = served.backend!;
    remember("node", node);
    const removal = expectedRealServerRemoval(checkTiming(lab), "refused", engineSlack(lab));
    const stop = await fault("stop-nginx", node);
    remember("stop", stop);
    await waitForTableChange(lab, "lvs1", node, "Removing", stop.invokeMs, removal.maxMs + 10_000);
    await sleep(5000);
    const start = await fault("start-nginx", node);
    remember("start", start);
    await waitForTableChange(lab, "lvs1", node, "Adding", start.invokeMs, expectedRealServerReturn(checkTiming(lab), engineSlack(lab)).maxMs + 10_000);
    await sleep(4000);
  },
  checks({ recall, lab, ops, vip, steadyMs }) {
    const node = recall<string>("node");
    const other = node === "web1" ? "web2" : "web1";
    const stop = recall<FaultResult>("stop");
    const start = recall<FaultResult>("start");
    const timing = checkTiming(lab);
    const slack = engineSlack(lab);
    const vs = virtualService(lab);
    const rs = realServer(lab, node);
    const removedAt = tableChanges(ops, "lvs1", rs, vs, "Removing").find((o) => o.atMs >= stop.invokeMs)?.atMs ?? Infinity;
    const settled = removedAt + TIMEOUT_MS;
    const first = lab.topology.client!.address;
    const common = { virtualService: vs, realServer: rs, anchor: "effect" as const };
    return [
      // Templates live in one director's kernel (no sync daemon here): persistence holds only while lvs1 serves.
      vipMoves({ name: "lvs1-keeps-the-vip", vip, fromMs: steadyMs, max: 0 }),
      stickyClients({ name: "each-client-keeps-its-server", toMs: stop.invokeMs, minClients: 2 }),
      realServerRemoved({ name: "lvs1-removes-its-server", director: "lvs1", fault: { faultId: stop.faultId }, check: timing, failure: "refused", slack, ...common }),
      zeroErrors({ name: "no-errors-before-the-stop", toMs: stop.invokeMs }),
      zeroErrors({ name: "no-errors-once-it-is-out", fromMs: settled }),
      (ops) =>
        runCheck("first-client-moves", () => {
          const after = ops.filter((o): o is RequestOp => o.f === "request" && o.source === first && o.outcome === "ok" && o.atMs >= settled && o.atMs < start.invokeMs);
          if (after.length === 0) throw new Inconclusive(`client ${first} had no successful request while ${node} was out`);
          const backends = [...new Set(after.map((r) => r.backend))];
          return { verdict: backends.length === 1 && backends[0] === other ? "pass" : "fail", measured: backends.join("+"), expected: `client ${first} served by ${other} once ${node} is out` };
        }),
      realServerAdded({ name: "lvs1-adds-it-back", director: "lvs1", fault: { faultId: start.faultId }, expected: expectedRealServerReturn(timing, slack), ...common, ...readyAnchor(start, node) }),
      stickyClients({ name: "clients-stay-after-it-returns", fromMs: settled, minClients: 2 }),
      notServedBy({ name: "no-client-goes-back", backend: node, fromMs: settled }),
      ipvsTableHolds({ name: "nat-table-at-end", director: "lvs1", virtualService: vs, realServers: [realServer(lab, "web1"), realServer(lab, "web2")], forward: "Masq" }),
    ];
  },
  figures: { removalMs: "lvs1-removes-its-server", returnMs: "lvs1-adds-it-back" },
});
