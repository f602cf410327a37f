/**
 * The LVS tier's checks: when keepalived took a real server out of (and back into) a virtual
 * service, what each director's IPVS table held, whether clients stayed on their real server
 * (persistence), and how long clients were without service after a fault. Expected windows come
 * from protocol/lvs-timing.ts and vrrp-timing.ts; this file never invents a number.
 *
 * keepalived logs its changes to the table ("Removing service [10.0.0.21]:tcp:80 from VS
 * [10.0.0.150]:tcp:80", "Adding service … to VS …"), stamped in the director as it logs them: the
 * `log` ops those lines become time the change. The `ipvs` ops (the table polled in the director)
 * show what the kernel then held.
 */
import type { IpvsOp, LogOp, Op, RequestOp } from "../history/ops.ts";
import { CHECKER_BOOTSTRAP_DELAY_MS, type CheckFailure, type EngineSlack, expectedFirstCheckRemoval, expectedRealServerRemoval, type HealthCheckTiming } from "../protocol/lvs-timing.ts";
import { type ExpectedWindow, OBSERVATION_SLACK_MS } from "../protocol/vrrp-timing.ts";
import { describeWindow } from "./migration.ts";
import { describeFaultRef, describeResolved, type FaultAnchor, type FaultRef, type ResolvedFault, resolveFault } from "./faults.ts";
import { list, ms } from "./format.ts";
import { isFailed } from "./requests.ts";
import { requestOps } from "./select.ts";
import { type Checker, Inconclusive, runCheck } from "./types.ts";

/** "10.0.0.21:80" → the pattern of keepalived's "[10.0.0.21]:tcp:80" (or "[10.0.0.21]:80"). */
function serviceText(address: string): string {
  const [ip, port] = address.split(":");
  return `\\[${ip!.replaceAll(".", "\\.")}\\]:(?:tcp:)?${port}`;
}

/** keepalived's "Adding service" / "Removing service" lines of a director for one real server of one virtual service. */
export function tableChanges(ops: readonly Op[], director: string, realServer: string, virtualService: string, change: "Adding" | "Removing"): LogOp[] {
  const re = new RegExp(`${change} service ${serviceText(realServer)} (?:to|from) VS ${serviceText(virtualService)}`);
  return ops.filter((o): o is LogOp => o.f === "log" && o.node === director && re.test(o.line));
}

export function ipvsOps(ops: readonly Op[], director?: string): IpvsOp[] {
  return ops.filter((o): o is IpvsOp => o.f === "ipvs" && (director === undefined || o.node === director));
}

/** The real servers of a virtual service ("10.0.0.150:80") in an `ipvs` op. */
export function realServersIn(op: IpvsOp, virtualService: string): string[] {
  return op.services.find((s) => s.service.endsWith(` ${virtualService}`))?.realServers.map((r) => r.address) ?? [];
}

/**
 * keepalived's lines for single failed check attempts of a director on one real server, logged
 * while the server is still up (the lab's directors run with `checker_log_all_failures`):
 * TCP_CHECK "TCP connection to [10.0.0.21]:tcp:80 timeout." (or "failed."), HTTP_GET
 * "<what failed> server [10.0.0.21]:tcp:80." (check_tcp.c tcp_check_thread, check_http.c timeout_epilog).
 */
function failedAttemptPattern(service: string): string {
  return `TCP connection to ${service} (?:timeout|failed)\\.|\\bserver ${service}\\.\\s*$`;
}

export function failedCheckAttempts(ops: readonly Op[], director: string, realServer: string): LogOp[] {
  const re = new RegExp(failedAttemptPattern(serviceText(realServer)));
  return ops.filter((o): o is LogOp => o.f === "log" && o.node === director && re.test(o.line));
}

/**
 * The director's keepalived starting its checker of a real server: "Activating healthchecker for
 * service [10.0.0.21]:tcp:80 for VS [10.0.0.150]:tcp:80" (check_api.c register_checkers_thread), the
 * last one before `atMs` (keepalived's last start). A checker starts afresh then: no failures
 * carried, its first attempt still to come.
 */
export function checkerStart(ops: readonly Op[], director: string, realServer: string, atMs: number): LogOp | undefined {
  const re = new RegExp(`Activating healthchecker for service ${serviceText(realServer)} for VS`);
  return ops.filter((o): o is LogOp => o.f === "log" && o.node === director && o.atMs < atMs && re.test(o.line)).at(-1);
}

/**
 * The checker's start, when its first attempt had logged no outcome before `atMs`. keepalived logs
 * the first attempt's outcome whatever it is: a success ("TCP connection to … success.", "Remote Web
 * server … succeed on service.") as the checker's first state, a failure as the server's removal
 * ("TCP_CHECK on service … failed.", "Removing service …"), with checker_log_all_failures also the
 * attempt's own line.
 */
export function firstAttemptPending(ops: readonly Op[], director: string, realServer: string, atMs: number): LogOp | undefined {
  const start = checkerStart(ops, director, realServer, atMs);
  if (!start) return undefined;
  const service = serviceText(realServer);
  const outcome = new RegExp(
    `${failedAttemptPattern(service)}|TCP connection to ${service} success\\.|Remote Web server ${service} succeed on service\\.|(?:TCP|HTTP)_CHECK on service ${service} failed|Removing service ${service} from VS`,
  );
  const ended = ops.some((o) => o.f === "log" && o.node === director && o.atMs >= start.atMs && o.atMs < atMs && outcome.test(o.line));
  return ended ? undefined : start;
}

/** What the director's checker of a real server carried into a fault: failed attempts in a row, not yet followed by a success. */
export interface CarriedFailures {
  /** Attempts failed in a row just before the fault (0: none, or a success came after them). */
  count: number;
  /** false: the attempt after the last failure may have run before the fault or not (its outcome is unknown). */
  certain: boolean;
  lines: LogOp[];
}

/**
 * The failed attempts in a row a checker carried into a fault at `atMs`. After a failed attempt the
 * next one is due delay_before_retry later (check_tcp.c tcp_epilog); a failure of it would be logged
 * within connect_timeout more, a success is not logged at all. So the last failure before the fault
 * was followed by a success when the next attempt had time to run and end before the fault, with
 * nothing logged; it was not when the fault came before the next attempt was due; in between it is
 * unknown. `slackMs`: how late the director's timers and the log's stamps may be.
 */
export function failuresCarriedInto(ops: readonly Op[], director: string, realServer: string, atMs: number, check: HealthCheckTiming, slackMs: number): CarriedFailures {
  // keepalived's (re)start begins every checker afresh: failures before it are not carried.
  const startMs = checkerStart(ops, director, realServer, atMs)?.atMs ?? -Infinity;
  const before = failedCheckAttempts(ops, director, realServer).filter((o) => o.atMs >= startMs && o.atMs < atMs);
  const last = before.at(-1);
  // With retry 0 every failure takes the server out at once: nothing is carried.
  if (!last || check.retry === 0) return { count: 0, certain: true, lines: [] };
  const cycle = check.delayBeforeRetryMs + check.connectTimeoutMs + slackMs;
  const gap = atMs - last.atMs;
  if (gap > cycle) return { count: 0, certain: true, lines: [] };
  const streak = [last];
  for (let i = before.length - 2; i >= 0 && streak.length < check.retry; i--) {
    if (streak[0]!.atMs - before[i]!.atMs > cycle) break;
    streak.unshift(before[i]!);
  }
  return { count: streak.length, certain: gap < check.delayBeforeRetryMs - slackMs, lines: streak };
}

export interface TableChangeOptions {
  name?: string;
  director: string;
  /** "10.0.0.21:80" */
  realServer: string;
  /** "10.0.0.150:80" */
  virtualService: string;
  fault: FaultRef;
  anchor?: FaultAnchor;
  /**
   * Measure from this moment instead of the fault's anchor, named by `fromWhat` (e.g. when nginx
   * started inside a node that was powered on: the node's boot is not the checker's business).
   */
  fromMs?: number;
  fromWhat?: string;
  expected: ExpectedWindow;
}

/** The window a table change is judged against, once the fault is known; `note` says why it is not the usual one. */
type WindowFor = (ops: readonly Op[], fault: ResolvedFault) => { window: ExpectedWindow; note?: string };

function tableChange(options: Omit<TableChangeOptions, "expected">, change: "Adding" | "Removing", usual: ExpectedWindow, windowFor: WindowFor): Checker {
  const anchor = options.anchor ?? "invoke";
  const verb = change === "Removing" ? "removed" : "added back";
  const name = options.name ?? `real-server-${change === "Removing" ? "removed" : "added"}(${options.realServer} on ${options.director}, ${describeFaultRef(options.fault)})`;
  const describe = (w: ExpectedWindow) =>
    options.fromMs === undefined ? describeWindow(w, anchor) : `within [${w.minMs.toFixed(1)}, ${w.maxMs.toFixed(1)}] ms of ${options.fromWhat ?? "the given moment"}: ${w.formula}`;
  return (ops) =>
    runCheck(
      name,
      () => {
        const f = resolveFault(ops, options.fault, anchor);
        const { window, note } = windowFor(ops, f);
        const expected = describe(window);
        const fromMs = options.fromMs ?? f.atMs;
        const from = options.fromMs === undefined ? describeResolved(f, anchor) : `${options.fromWhat ?? "the given moment"} (${ms(fromMs)})`;
        const line = tableChanges(ops, options.director, options.realServer, options.virtualService, change).find((o) => o.atMs >= f.invoke.atMs);
        // And the kernel's table, as polled after the fault, agrees.
        const tables = ipvsOps(ops, options.director).filter((o) => o.atMs >= f.invoke.atMs);
        const agrees = tables.find((o) => realServersIn(o, options.virtualService).includes(options.realServer) === (change === "Adding"));
        if (!line) {
          return { verdict: "fail", measured: null, expected, unit: "ms", detail: `${options.director}'s keepalived never logged "${change} service" for ${options.realServer} after ${describeResolved(f, anchor)}${note ? `; ${note}` : ""}` };
        }
        // The earlier of the two: keepalived's line is stamped when it is read from its output (late
        // when the node's CPUs are busy); the table's poll is stamped just before ipvsadm reads it.
        const changedAt = agrees && agrees.atMs < line.atMs ? agrees.atMs : line.atMs;
        const measured = changedAt - fromMs;
        const inWindow = measured >= window.minMs && measured <= window.maxMs;
        return {
          verdict: inWindow && agrees ? "pass" : "fail",
          measured,
          expected,
          unit: "ms",
          detail:
            `${options.director} ${verb} ${options.realServer}: "${line.line.trim()}" at ${ms(line.atMs)}; ` +
            (agrees ? `its IPVS table showed it ${change === "Adding" ? "back" : "gone"} at ${ms(agrees.atMs)}` : "its IPVS table, as polled, never showed the change") +
            `; ${ms(measured)} after ${from}${note ? `; ${note}` : ""}`,
        };
      },
      { expected: describe(usual), unit: "ms" },
    );
}

export interface RemovalOptions extends Omit<TableChangeOptions, "expected"> {
  /** The real server's health check as the director runs it. */
  check: HealthCheckTiming;
  /** How the real server fails its checks after the fault. */
  failure: CheckFailure;
  /** An engine's extra slack (a TCG guest's late timers). */
  slack?: EngineSlack;
}

/**
 * measured = ms from the fault's anchor to keepalived's "Removing service" line for the real server
 * on the director. pass iff within the window and the director's polled table then lacks it.
 *
 * The window is expectedRealServerRemoval's for the checker's state at the fault: when the director
 * had logged failed attempts on the (then healthy) server just before it, fewer failures are still
 * needed and the next attempt is due sooner; the detail quotes them. When it cannot be known whether a
 * success came between (the next attempt may have run before the fault), the window spans both cases.
 * When the director's keepalived had (re)started the checker shortly before the fault and its first
 * attempt had not ended, that attempt's single failure removes the server: expectedFirstCheckRemoval.
 */
export function realServerRemoved(options: RemovalOptions): Checker {
  const { check, failure, slack } = options;
  const usual = expectedRealServerRemoval(check, failure, slack);
  const slackMs = OBSERVATION_SLACK_MS + (slack?.ms ?? 0);
  return tableChange(options, "Removing", usual, (ops, f) => {
    const start = firstAttemptPending(ops, options.director, options.realServer, f.atMs);
    if (start) {
      const sinceStartMs = f.atMs - start.atMs;
      const quoted = `"${start.line.trim()}" at ${ms(start.atMs)}`;
      // The first attempt comes within BOOTSTRAP_DELAY + delay_loop of the start and lasts one attempt at most.
      if (sinceStartMs <= CHECKER_BOOTSTRAP_DELAY_MS + check.delayLoopMs + check.connectTimeoutMs + slackMs) {
        return {
          window: expectedFirstCheckRemoval(check, failure, sinceStartMs, slack),
          note: `${options.director}'s keepalived had started its checker ${ms(sinceStartMs)} before the fault (${quoted}) and logged no outcome of its first attempt before it`,
        };
      }
      return { window: usual, note: `${options.director}'s log has no outcome of the first attempt of the checker started at ${ms(start.atMs)}, though it was due long before the fault` };
    }
    const carried = failuresCarriedInto(ops, options.director, options.realServer, f.atMs, check, slackMs);
    if (carried.count === 0) return { window: usual };
    const sooner = expectedRealServerRemoval(check, failure, slack, carried.count);
    const quoted = carried.lines.map((o) => `"${o.line.trim()}" at ${ms(o.atMs)}`).join(", ");
    if (carried.certain) {
      return { window: sooner, note: `${options.director}'s checker had failed ${carried.count} attempt(s) in a row before the fault, while the server was up: ${quoted}` };
    }
    return {
      window: { minMs: Math.min(sooner.minMs, usual.minMs), maxMs: Math.max(sooner.maxMs, usual.maxMs), formula: `either ${sooner.formula}, or (a success came between) ${usual.formula}` },
      note: `${options.director}'s checker had failed an attempt shortly before the fault (${quoted}); whether the next one succeeded before the fault is unknown`,
    };
  });
}

/** As realServerRemoved, for "Adding service" after the server recovered (the table then has it), judged against `expected`. */
export function realServerAdded(options: TableChangeOptions): Checker {
  return tableChange(options, "Adding", options.expected, () => ({ window: options.expected }));
}

export interface IpvsTableOptions {
  name?: string;
  director: string;
  virtualService: string;
  /** The real servers the table must hold, exactly ("10.0.0.21:80", …). */
  realServers: string[];
  /** Judge the last table read at or before this time (default: the end of the history). */
  atMs?: number;
  /** Every real server must be reached this way: Route (DR), Masq (NAT), Tunnel. */
  forward?: string;
}

/** The director's IPVS table (as last polled by `atMs`) holds exactly these real servers for the service. */
export function ipvsTableHolds(options: IpvsTableOptions): Checker {
  const want = [...options.realServers].sort();
  const when = options.atMs === undefined ? "at the end" : `at ${ms(options.atMs)}`;
  const name = options.name ?? `ipvs-table(${options.director} ${options.virtualService} ${when})`;
  const expected = `${options.director}'s IPVS table holds ${options.virtualService} → ${want.join(", ")}${options.forward ? ` (forward: ${options.forward})` : ""} ${when}`;
  return (ops) =>
    runCheck(
      name,
      () => {
        const tables = ipvsOps(ops, options.director).filter((o) => o.atMs <= (options.atMs ?? Infinity));
        const last = tables.at(-1);
        if (!last) throw new Inconclusive(`no IPVS table of ${options.director} was read ${options.atMs === undefined ? "" : `by ${ms(options.atMs)}`}`);
        if (last.error) return { verdict: "fail", measured: last.error, expected, detail: `ipvsadm failed on ${options.director} at ${ms(last.atMs)}: ${last.error}` };
        const got = realServersIn(last, options.virtualService).sort();
        const same = got.length === want.length && got.every((g, i) => g === want[i]);
        const forwards = last.services.find((s) => s.service.endsWith(` ${options.virtualService}`))?.realServers.map((r) => r.forward) ?? [];
        const forwardOk = options.forward === undefined || forwards.every((f) => f === options.forward);
        return {
          verdict: same && forwardOk ? "pass" : "fail",
          measured: got.join(", ") || "(none)",
          expected,
          detail: `table read at ${ms(last.atMs)}: ${last.services.map((s) => `${s.service} ${s.scheduler}${s.flags ? ` ${s.flags}` : ""} → ${s.realServers.map((r) => `${r.address} ${r.forward} w${r.weight}`).join(", ") || "no real server"}`).join("; ") || "no virtual service"}`,
        };
      },
      { expected },
    );
}

/** A client's backends in order, each with when it began serving it: "web2 from 1200.0 ms, web1 from 9800.0 ms" (one backend: its name). */
function backendRuns(rs: readonly RequestOp[]): string {
  const runs: { backend: string; fromMs: number }[] = [];
  for (const r of rs) if (runs.at(-1)?.backend !== r.backend) runs.push({ backend: r.backend!, fromMs: r.atMs });
  if (runs.length === 1) return runs[0]!.backend;
  return runs.map((x) => `${x.backend} from ${ms(x.fromMs)}`).join(", ");
}

export interface StickyClientsOptions {
  name?: string;
  stream?: string;
  fromMs?: number;
  toMs?: number;
  /** At least this many client addresses must have sent at least two successful requests. Default 1. */
  minClients?: number;
}

/**
 * Persistence: every client address (a request's `source`) was served by one backend only among its
 * successful requests starting in the window. measured = client addresses that were served by more
 * than one. Unknown when fewer than `minClients` addresses had two or more successful requests.
 */
export function stickyClients(options: StickyClientsOptions): Checker {
  const from = options.fromMs ?? -Infinity;
  const to = options.toMs ?? Infinity;
  const name = options.name ?? `sticky-clients([${options.fromMs ?? "start"}, ${options.toMs ?? "end"}) ms)`;
  const expected = `each client address is served by one backend for its requests starting in [${options.fromMs === undefined ? "start" : ms(from)}, ${options.toMs === undefined ? "end" : ms(to)})`;
  return (ops) =>
    runCheck(
      name,
      () => {
        const bySource = new Map<string, RequestOp[]>();
        for (const r of requestOps(ops, options.stream)) {
          if (r.atMs < from || r.atMs >= to || r.outcome !== "ok" || !r.backend) continue;
          const key = r.source ?? "(the client)";
          bySource.set(key, [...(bySource.get(key) ?? []), r]);
        }
        const judged = [...bySource].filter(([, rs]) => rs.length >= 2);
        if (judged.length < (options.minClients ?? 1)) {
          throw new Inconclusive(`only ${judged.length} client address(es) had two or more successful requests in the window; ${options.minClients ?? 1} needed`);
        }
        const summary = judged.map(([src, rs]) => `${src} → ${backendRuns(rs)} (${rs.length})`);
        const switched = judged.filter(([, rs]) => new Set(rs.map((r) => r.backend)).size > 1);
        return { verdict: switched.length === 0 ? "pass" : "fail", measured: switched.length, unit: "count", expected, detail: list(summary) };
      },
      { expected, unit: "count" },
    );
}

export interface OutageOptions {
  name?: string;
  stream?: string;
  fault: FaultRef;
  anchor?: FaultAnchor;
  /** The window within which clients must be served again. */
  expected: ExpectedWindow;
  /** Only requests starting before this time count (e.g. before the next fault). */
  toMs?: number;
}

/**
 * How long clients were without service after a fault: measured = ms from the fault's anchor to the
 * start of the first successful request after the last failed one (0 when no request failed).
 * pass iff measured ≤ the window's max.
 */
export function outageAfter(options: OutageOptions): Checker {
  const anchor = options.anchor ?? "invoke";
  const name = options.name ?? `outage-after(${describeFaultRef(options.fault)})`;
  const expected = `clients served again ${describeWindow({ ...options.expected, minMs: 0 }, anchor)}`;
  return (ops) =>
    runCheck(
      name,
      () => {
        const f = resolveFault(ops, options.fault, anchor);
        const reqs = requestOps(ops, options.stream).filter((r) => r.atMs >= f.invoke.atMs && r.atMs < (options.toMs ?? Infinity));
        if (reqs.length === 0) throw new Inconclusive(`no request after ${describeResolved(f, anchor)}`);
        const failed = reqs.filter(isFailed);
        if (failed.length === 0) return { verdict: "pass", measured: 0, expected, unit: "ms", detail: `all ${reqs.length} requests after the fault succeeded` };
        const last = failed.at(-1)!;
        const next = reqs.find((r) => r.atMs > last.atMs && !isFailed(r));
        if (!next) return { verdict: "fail", measured: null, expected, unit: "ms", detail: `${failed.length} failed; no request succeeded after the last failure (started at ${ms(last.atMs)})` };
        const measured = Math.max(0, next.atMs - f.atMs);
        return {
          verdict: measured <= options.expected.maxMs ? "pass" : "fail",
          measured,
          expected,
          unit: "ms",
          detail: `${failed.length} of ${reqs.length} requests failed (first at ${ms(failed[0]!.atMs)}, last at ${ms(last.atMs)}: ${[...new Set(failed.map((r) => r.outcome))].join(", ")}); served again from ${ms(next.atMs)}`,
        };
      },
      { expected, unit: "ms" },
    );
}
