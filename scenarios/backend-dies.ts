/**
 * A backend dies: nginx routes around it and idempotent GETs see no error — first a stopped backend
 * (connections refused), then a powered-off one (connections time out).
 */
import { notServedBy, servedBy, zeroErrors } from "../lab/checkers/requests.ts";
import { ownerIs, vipMoves } from "../lab/checkers/vip.ts";
import type { FaultResult } from "../lab/nemesis/nemesis.ts";
import { defineScenario } from "../lab/scenario/define.ts";

const CONNECT_TIMEOUT_MS = 300;

export default defineScenario({
  name: "backend-dies",
  title: "A backend dies: nginx retries the other one and clients see no error",
  description:
    "nginx on the load balancers proxies to web1 and web2 with proxy_next_upstream error timeout and a 300 ms " +
    "proxy_connect_timeout. web1's nginx is stopped (refused: retried at once), started again, then web1 loses power " +
    "(no answer: retried after 300 ms). max_fails=1 fail_timeout=10s keeps nginx off web1 once it has failed. The VIP " +
    "never moves: this is nginx's job, not keepalived's. The client's 2 s timeout is longer than the connect timeout.",
  sources: ["004_3049287fd684d864.txt"],
  topology: {
    name: "backend-dies",
    nginx: {
      upstream: { servers: [{ node: "web1", maxFails: 1, failTimeout: "10s" }, { node: "web2", maxFails: 1, failTimeout: "10s" }] },
      proxy: { nextUpstream: ["error", "timeout", "http_502", "http_503", "http_504"], connectTimeout: `${CONNECT_TIMEOUT_MS}ms` },
    },
  },
  requests: [{ timeoutMs: 2000 }],
  async run({ fault, remember, sleep }) {
    remember("stop", await fault("stop-backend", "web1"));
    await sleep(3000);
    remember("start", await fault("start-backend", "web1"));
    await sleep(11_000); // past fail_timeout, so nginx tries web1 again
    remember("off", await fault("power-off", "web1"));
    await sleep(3000);
  },
  checks({ vip, recall, steadyMs }) {
    const stop = recall<FaultResult>("stop");
    const start = recall<FaultResult>("start");
    const off = recall<FaultResult>("off");
    return [
      zeroErrors({ name: "zero-errors" }),
      notServedBy({ name: "routes-around-stopped-web1", backend: "web1", fromMs: stop.doneMs, toMs: start.invokeMs }),
      notServedBy({ name: "routes-around-powered-off-web1", backend: "web1", fromMs: off.doneMs }),
      servedBy({ name: "web1-serves-again-after-restart", backend: "web1", fromMs: start.doneMs, toMs: off.invokeMs }),
      vipMoves({ name: "vip-never-moves", vip, fromMs: steadyMs, max: 0 }),
      ownerIs({ name: "owner-at-end", vip, node: "lb1", at: "end" }),
    ];
  },
});
