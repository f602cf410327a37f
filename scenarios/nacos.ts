/**
 * A three-node Nacos cluster behind the nginx + keepalived pair, the VIP in front, with microservice
 * traffic through the VIP — and both faults in one lab, in sequence:
 *   (a) the load-balancer master loses power: Nacos calls recover within the VRRP failover window;
 *   (b) one Nacos member is killed: the other two keep serving, nginx routes around it, the cluster
 *       reports it DOWN; started again, it rejoins (UP) and nginx sends to it again;
 *   (c) across both: no acknowledged config write is lost.
 * One lab for all three because a Nacos cluster takes about a minute to form on two cores: (c) is
 * judged over the whole run, so it sees both faults.
 */
import { migrationTime } from "../lab/checkers/migration.ts";
import { nacosMaxErrors, nacosMemberState, nacosNoLostWrites, nacosNotServedBy, nacosOutage, nacosRecovery, nacosServedBy } from "../lab/checkers/nacos.ts";
import { ownerIs } from "../lab/checkers/vip.ts";
import type { FaultResult } from "../lab/nemesis/nemesis.ts";
import { expectedConfigWritesBack, expectedMemberDown, expectedMemberUp } from "../lab/protocol/nacos-timing.ts";
import { expectedSilentFailover } from "../lab/protocol/vrrp-timing.ts";
import { defineScenario } from "../lab/scenario/define.ts";
import { nacosFailoverErrorBound, NACOS_CALL_TIMEOUT_MS, NGINX_FAIL_TIMEOUT_MS, runNacosMemberFault, startNacosWorkload } from "./lib/nacos.ts";

export default defineScenario({
  name: "nacos",
  title: "Nacos cluster behind the VIP: the LB master loses power, then a Nacos member dies and comes back",
  description:
    "Three Nacos 2.3.2 members (embedded storage: Derby replicated by JRaft) behind lb1/lb2: HTTP 8848 through an nginx http " +
    "upstream, client gRPC 9848 through a stream upstream, the VIP in front. A workload registers instances and sends their " +
    "heartbeats, lists them, publishes and reads configs and asks the cluster for its members, every call through the VIP. " +
    "lb1 loses power: calls recover once lb2 holds the VIP. Then nacos3's JVM is killed: its peers report it DOWN, nginx " +
    "routes around it, the two survivors serve everything; started again, it is reported UP and serves again. Every config " +
    "write Nacos acknowledged is read back at the end.",
  sources: ["000_9fd1314643ef8be8.txt", "002_f3707bfeb8276820.txt"],
  topology: { name: "nacos", web: {}, nacos: { members: 3, storage: "embedded" } },
  requests: false,
  async run(ctx) {
    const { lab, fault, remember, sleep, vip, note } = ctx;
    const workload = startNacosWorkload(lab);
    await sleep(5000);

    // (a) the load-balancer master loses power.
    const off = await fault("power-off", "lb1");
    remember("off", off);
    await lab.waitForVip(vip, "lb2", 15_000);
    await sleep(10_000);
    note("lb failover done");

    // (b) a Nacos member dies and comes back.
    remember("member", await runNacosMemberFault(ctx, "nacos3"));

    // (c) every acknowledged write, read back.
    await workload.stop();
    remember("verify", await workload.verify());
    note("writes read back");
  },
  checks({ vip, timing, recall, steadyMs }) {
    const off = recall<FaultResult>("off");
    const { kill, start } = recall<{ kill: FaultResult; start: FaultResult }>("member");
    const failover = expectedSilentFailover(timing());
    const down = expectedMemberDown(3);
    const up = expectedMemberUp(3);
    const writesBack = expectedConfigWritesBack();
    const recovered = off.effectMs + failover.maxMs + 2 * NACOS_CALL_TIMEOUT_MS;
    const downBy = kill.effectMs + down.maxMs;
    // A call started up to one timeout before a fault can still be in flight when it strikes.
    const beforeOff = off.invokeMs - NACOS_CALL_TIMEOUT_MS;
    const lbErrors = nacosFailoverErrorBound(recovered - beforeOff);
    return [
      nacosMaxErrors({ name: "nacos-no-errors-before-the-faults", max: 0, fromMs: steadyMs, toMs: beforeOff }),
      nacosServedBy({ name: "nacos-grpc-9848-through-lb1", operation: "server-check", fromMs: steadyMs, toMs: off.invokeMs }),
      // (a)
      migrationTime({ name: "vip-migration", vip, fault: { faultId: off.faultId }, from: "lb1", to: "lb2", expected: failover, anchor: "effect" }),
      nacosRecovery({
        name: "nacos-recovers-through-lb2",
        fault: { faultId: off.faultId },
        lb: "lb2",
        expected: { maxMs: failover.maxMs + 2 * NACOS_CALL_TIMEOUT_MS, formula: `${failover.formula}; + 2 × the call's ${NACOS_CALL_TIMEOUT_MS} ms timeout (a call in flight times out, the next one answers)` },
      }),
      nacosMaxErrors({ name: "nacos-failed-calls-during-lb-failover", max: lbErrors.max, why: lbErrors.formula, fromMs: beforeOff, toMs: recovered }),
      nacosMaxErrors({ name: "nacos-no-errors-once-lb2-serves", max: 0, fromMs: recovered, toMs: kill.invokeMs - NACOS_CALL_TIMEOUT_MS }),
      nacosServedBy({ name: "nacos-grpc-9848-through-lb2", operation: "server-check", fromMs: recovered, toMs: kill.invokeMs }),
      // (b)
      nacosMemberState({ name: "nacos3-reported-down", member: "nacos3", state: "DOWN", fault: { faultId: kill.faultId }, untilMs: start.invokeMs, expected: down }),
      nacosNotServedBy({ name: "nginx-routes-around-nacos3", member: "nacos3", fromMs: kill.doneMs, toMs: start.invokeMs }),
      nacosMaxErrors({
        name: "nacos-reads-never-fail-while-nacos3-dies",
        max: 0,
        operation: ["get-config", "list", "cluster-nodes", "server-check"],
        fromMs: kill.invokeMs,
        toMs: start.invokeMs,
        why: "nginx retries a read on the next member (proxy_next_upstream error timeout), and a survivor answers it from its own memory",
      }),
      nacosOutage({ name: "nacos-config-writes-back-after-raft-election", operation: "publish", fault: { faultId: kill.faultId }, untilMs: start.invokeMs, expected: writesBack }),
      nacosMaxErrors({ name: "nacos-survivors-serve-everything-once-nacos3-is-down", max: 0, fromMs: downBy, toMs: start.invokeMs }),
      nacosMemberState({ name: "nacos3-rejoins", member: "nacos3", state: "UP", fault: { faultId: start.faultId }, anchor: "ok", expected: up }),
      nacosServedBy({ name: "nacos3-serves-again", member: "nacos3", fromMs: start.doneMs + NGINX_FAIL_TIMEOUT_MS }),
      nacosMaxErrors({ name: "nacos-no-errors-after-the-rejoin", max: 0, fromMs: start.doneMs + up.maxMs }),
      // (c)
      nacosNoLostWrites({ name: "nacos-no-acknowledged-write-lost" }),
      ownerIs({ name: "owner-at-end", vip, node: "lb2", at: "end" }),
    ];
  },
  figures: {
    migrationMs: "vip-migration",
    nacosRecoveryMs: "nacos-recovers-through-lb2",
    nacosFailedCallsDuringLbFailover: "nacos-failed-calls-during-lb-failover",
    nacosMemberDownMs: "nacos3-reported-down",
    nacosMemberUpMs: "nacos3-rejoins",
    nacosConfigWriteOutageMs: "nacos-config-writes-back-after-raft-election",
    nacosLostWrites: "nacos-no-acknowledged-write-lost",
  },
});
