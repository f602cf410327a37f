/**
 * The seed's LVS-DR pair of directors: the master director loses power, the backup takes the VIP —
 * and with it the virtual service, whose IPVS table it has held (and health-checked) all along.
 */
import { outageAfter, ipvsTableHolds } from "../lab/checkers/lvs.ts";
import { migrationTime } from "../lab/checkers/migration.ts";
import { servedBy, zeroErrors } from "../lab/checkers/requests.ts";
import { ownerIs } from "../lab/checkers/vip.ts";
import type { FaultResult } from "../lab/nemesis/nemesis.ts";
import { withEngineSlack } from "../lab/protocol/lvs-timing.ts";
import { expectedSilentFailover } from "../lab/protocol/vrrp-timing.ts";
import { defineScenario } from "../lab/scenario/define.ts";
import { engineSlack, realServer, virtualService } from "./lib/lvs.ts";

/** The client's timeout: a request into a black hole fails after it. 3 s, as a TCG guest's client now and then needs
 * close to a second for a request on a busy machine (p99 0.9–1.0 s measured); the host's engine needs far less. */
const TIMEOUT_MS = 3000;

export default defineScenario({
  name: "lvs-director-power-off",
  title: "LVS-DR: power off the master director; the backup takes the VIP and serves the virtual service",
  description:
    "Two directors run keepalived with the seed's VRRP instance (VRID 51, priorities 100 / 50, advert_int 1) and its " +
    "virtual_server (lb_kind DR, lb_algo rr, TCP_CHECK) in front of two nginx real servers that hold the VIP on lo " +
    "(arp_ignore 1, arp_announce 2). lvs1 loses power: lvs2 takes the VIP when its Master_Down_Interval runs out, and its " +
    "own IPVS table — programmed and health-checked by its keepalived from the start — serves the clients, whose " +
    "requests fail only until lvs2's gratuitous ARPs reach them.",
  sources: ["004_3049287fd684d864.txt"],
  topology: {
    name: "lvs-director-off",
    lb: {},
    web: { web1: {}, web2: {} },
    director: { lvs1: {}, lvs2: {} },
    lvs: { mode: "DR", algo: "rr", check: { type: "TCP_CHECK", delayLoop: 6, connectTimeout: 2, retry: 1, delayBeforeRetry: 3 }, vrrp: { priorities: { lvs1: 100, lvs2: 50 } } },
  },
  requests: [{ ratePerSecond: 10, timeoutMs: TIMEOUT_MS }],
  async run({ fault, lab, vip, remember, sleep }) {
    remember("off", await fault("power-off", "lvs1"));
    await lab.waitForVip(vip, "lvs2", 30_000);
    await sleep(3000);
  },
  checks({ vip, timing, recall, lab, ops }) {
    const off = recall<FaultResult>("off");
    const slack = engineSlack(lab);
    const failover = withEngineSlack(expectedSilentFailover(timing()), slack);
    const acquired = ops.find((o) => o.f === "vip" && o.event === "acquired" && o.node === "lvs2" && o.atMs >= off.invokeMs);
    const servedFrom = (acquired?.atMs ?? Infinity) + TIMEOUT_MS + slack.ms;
    const vs = virtualService(lab);
    return [
      migrationTime({ name: "vip-to-lvs2", vip, fault: { faultId: off.faultId }, from: "lvs1", to: "lvs2", expected: failover, anchor: "effect" }),
      outageAfter({
        name: "clients-served-again",
        fault: { faultId: off.faultId },
        anchor: "effect",
        expected: { ...failover, maxMs: failover.maxMs + TIMEOUT_MS, formula: `${failover.formula} + the client's ${TIMEOUT_MS} ms timeout` },
      }),
      zeroErrors({ name: "no-errors-before-the-fault", toMs: off.invokeMs }),
      zeroErrors({ name: "no-errors-once-lvs2-serves", fromMs: servedFrom }),
      ipvsTableHolds({ name: "lvs2-table-has-both-real-servers", director: "lvs2", virtualService: vs, realServers: [realServer(lab, "web1"), realServer(lab, "web2")] }),
      servedBy({ name: "web1-serves-through-lvs2", backend: "web1", fromMs: servedFrom }),
      servedBy({ name: "web2-serves-through-lvs2", backend: "web2", fromMs: servedFrom }),
      ownerIs({ name: "lvs2-holds-the-vip-at-end", vip, node: "lvs2", at: "end" }),
    ];
  },
  figures: { migrationMs: "vip-to-lvs2", outageMs: "clients-served-again" },
});
