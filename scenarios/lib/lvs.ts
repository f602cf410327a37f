/** Facts and waits the LVS scenarios share: the virtual service, its real servers, the checker's timing, the engine's slack. */
import { checkerStart, firstAttemptPending, tableChanges } from "../../lab/checkers/lvs.ts";
import type { Lab } from "../../lab/lab.ts";
import type { FaultResult } from "../../lab/nemesis/nemesis.ts";
import { LabError } from "../../lab/errors.ts";
import { CHECKER_BOOTSTRAP_DELAY_MS, type EngineSlack, type HealthCheckTiming } from "../../lab/protocol/lvs-timing.ts";
import { paceOf } from "../../lab/runtime/pace.ts";
import type { ResolvedLvs } from "../../lab/topology/resolve.ts";

export function lvsOf(lab: Lab): ResolvedLvs {
  const lvs = lab.topology.lvs;
  if (!lvs) throw new LabError(`lab ${lab.name} has no LVS tier`);
  return lvs;
}

/** "10.213.7.150:80" */
export function virtualService(lab: Lab): string {
  const lvs = lvsOf(lab);
  return `${lvs.vip}:${lvs.port}`;
}

/** A real server's "address:port" in the virtual service. */
export function realServer(lab: Lab, node: string): string {
  const rs = lvsOf(lab).realServers.find((r) => r.node === node);
  if (!rs) throw new LabError(`${node} is not a real server of lab ${lab.name}`);
  return `${rs.address}:${rs.port}`;
}

/** The health checker's timing, in ms, as the topology declares it (render-lvs.ts writes exactly this). */
export function checkTiming(lab: Lab): HealthCheckTiming {
  const c = lvsOf(lab).check;
  return { kind: c.type, delayLoopMs: c.delayLoop * 1000, connectTimeoutMs: c.connectTimeout * 1000, retry: c.retry, delayBeforeRetryMs: c.delayBeforeRetry * 1000 };
}

/** What the lab's engine adds to every expected window (0 on the host; a TCG guest's own slack). */
export function engineSlack(lab: Lab): EngineSlack {
  return paceOf(lab.deployment.engine).slack;
}

/** Wait until `director`'s keepalived logs that it added or removed the real server, after `afterMs`. */
export function waitForTableChange(lab: Lab, director: string, node: string, change: "Adding" | "Removing", afterMs: number, timeoutMs: number): Promise<number> {
  const rs = realServer(lab, node);
  const vs = virtualService(lab);
  return lab.waitFor(`${director} ${change === "Adding" ? "adding" : "removing"} ${node} (${rs}) ${change === "Adding" ? "to" : "from"} ${vs}`, () => tableChanges(lab.history.ops(), director, rs, vs, change).some((o) => o.atMs >= afterMs), timeoutMs);
}

/**
 * Wait until `director`'s keepalived has started a checker for every real server and each has ended
 * its first attempt (keepalived logs its outcome). Until then a checker is not in its steady state:
 * one failure of that first attempt removes the server (expectedFirstCheckRemoval), so a fault meant
 * to measure the usual removal waits for this. The first attempt comes within BOOTSTRAP_DELAY +
 * delay_loop of the start and lasts connect_timeout at most.
 */
export function waitForFirstChecks(lab: Lab, director: string): Promise<number> {
  const t = checkTiming(lab);
  const servers = lvsOf(lab).realServers.map((r) => `${r.address}:${r.port}`);
  const timeoutMs = CHECKER_BOOTSTRAP_DELAY_MS + t.delayLoopMs + t.connectTimeoutMs + 10_000;
  return lab.waitFor(
    `${director}'s health checkers to end their first attempts (${servers.join(", ")})`,
    () => {
      const ops = lab.history.ops();
      return servers.every((rs) => checkerStart(ops, director, rs, Infinity) !== undefined && firstAttemptPending(ops, director, rs, Infinity) === undefined);
    },
    timeoutMs,
  );
}

/**
 * A real server's return is timed from when its nginx was ready to accept connections (the start
 * fault's `readyMs`), not from when the start began: keepalived's check cannot succeed before, and
 * on a slow engine nginx's own start-up can take a second. Without a ready time, the fault's effect.
 */
export function readyAnchor(start: FaultResult, node: string): { fromMs?: number; fromWhat?: string } {
  return start.readyMs === undefined ? {} : { fromMs: start.readyMs, fromWhat: `nginx ready on ${node} (its pid file written, ${(start.readyMs - start.effectMs).toFixed(1)} ms after the start began)` };
}
