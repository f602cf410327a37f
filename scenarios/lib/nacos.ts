/** The Nacos workload and member fault shared by the Nacos scenarios. */
import type { Lab } from "../../lab/lab.ts";
import type { FaultResult } from "../../lab/nemesis/nemesis.ts";
import { expectedMemberDown, expectedMemberUp } from "../../lab/protocol/nacos-timing.ts";
import type { ScenarioContext } from "../../lab/scenario/define.ts";
import { formatIpv4, nthAddress } from "../../lab/ipv4.ts";
import type { NacosWorkload } from "../../lab/workload/nacos-workload.ts";

/** Every Nacos call gives up after this long. */
export const NACOS_CALL_TIMEOUT_MS = 2000;
/** The workload's loops that run at once: config, naming, cluster view, gRPC check. */
export const NACOS_LOOPS = 4;
/** nginx leaves a failed member alone this long (the topology's nacos.proxy.failTimeout default). */
export const NGINX_FAIL_TIMEOUT_MS = 10_000;

/**
 * The workload, and every member's own view of the cluster each second (what the member checks
 * judge): three instances of one service (addresses .201–.203 of the lab subnet, port 8080;
 * nothing listens there — Nacos does not probe ephemeral instances, their heartbeats keep them), 8
 * config dataIds, through the VIP.
 */
export function startNacosWorkload(lab: Lab): NacosWorkload {
  const instances = [201, 202, 203].map((n) => `${formatIpv4(nthAddress(lab.topology.subnet, n))}:8080`);
  const workload = lab.nacosWorkload({ instances, timeoutMs: NACOS_CALL_TIMEOUT_MS });
  workload.start();
  lab.watchNacosMembers();
  return workload;
}

/**
 * The most calls that can fail while the VIP is unreachable for `windowMs`: there, a call fails only
 * by timing out, so each loop fails at most ⌈window / timeout⌉ calls, plus one that a load balancer
 * taking over resets.
 */
export function nacosFailoverErrorBound(windowMs: number): { max: number; formula: string } {
  const perLoop = Math.ceil(windowMs / NACOS_CALL_TIMEOUT_MS) + 1;
  return {
    max: NACOS_LOOPS * perLoop,
    formula: `${NACOS_LOOPS} loops × (⌈${windowMs.toFixed(0)} ms / ${NACOS_CALL_TIMEOUT_MS} ms timeout⌉ + 1 reset at the takeover): while the VIP is unreachable a call fails only by timing out`,
  };
}

/** Whether every peer of `member` last showed it in `state`, in their own views since `sinceMs`. */
function allPeersSay(lab: Lab, member: string, state: string, sinceMs: number): boolean {
  const latest = new Map<string, string | undefined>();
  for (const op of lab.history.ops()) {
    if (op.f === "nacos-view" && op.atMs >= sinceMs && op.node !== member && op.members) latest.set(op.node, op.members[member]);
  }
  const peers = lab.topology.nacos!.members.map((m) => m.name).filter((n) => n !== member);
  return peers.every((p) => latest.get(p) === state);
}

/**
 * Kill `member`'s JVM; wait until every peer shows it DOWN, and let the survivors
 * serve until the protocol's DOWN window has passed plus 5 s; start it again (done when it answers
 * HTTP); wait until every peer reports it UP, and past nginx's fail_timeout so nginx sends to it again.
 */
export async function runNacosMemberFault(ctx: ScenarioContext, member: string): Promise<{ kill: FaultResult; start: FaultResult }> {
  const { lab, fault, sleep, note } = ctx;
  const members = lab.topology.nacos!.members.length;
  const down = expectedMemberDown(members);
  const kill = await fault("kill-nacos", member);
  await lab.waitFor(`every peer of ${member} showing it DOWN in its own view`, () => allPeersSay(lab, member, "DOWN", kill.doneMs), 60_000);
  note(`${member} reported DOWN`);
  const serveUntil = kill.effectMs + down.maxMs + 5000;
  await sleep(Math.max(0, serveUntil - lab.clock.nowMs()));
  const start = await fault("start-nacos", member);
  const up = expectedMemberUp(members);
  await lab.waitFor(`every peer of ${member} showing it UP in its own view`, () => allPeersSay(lab, member, "UP", start.doneMs), 60_000);
  note(`${member} reported UP`);
  await sleep(Math.max(0, start.doneMs + Math.max(up.maxMs, NGINX_FAIL_TIMEOUT_MS) + 3000 - lab.clock.nowMs()));
  return { kill, start };
}
