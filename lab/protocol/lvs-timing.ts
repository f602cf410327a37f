/**
 * keepalived's health checkers for LVS real servers (TCP_CHECK, HTTP_GET), the one place where the
 * lab's expectations about a real server leaving and re-joining the IPVS table come from. The VRRP
 * part of a director pair (who holds the VIP) comes from vrrp-timing.ts.
 *
 * What keepalived 2.2.7 does (keepalived/check/check_tcp.c tcp_epilog, check_http.c epilog,
 * check_api.c queue_checker), read from its source:
 *   - a check that succeeds schedules the next one `delay_loop` later;
 *   - a check that fails is retried `delay_before_retry` later, `retry` times; the failure that
 *     finds the retries used up (the (retry + 1)-th attempt in a row) marks the checker DOWN, and
 *     keepalived removes the real server from the virtual service at once ("Removing service … from
 *     VS …"; with `inhibit_on_failure` it sets its weight to 0 instead);
 *   - one attempt lasts until the connection is refused (a closed port answers with a reset: about
 *     no time) or until `connect_timeout` (a host that does not answer at all);
 *   - while a checker is DOWN its attempts come `delay_before_retry` or `delay_loop` apart (HTTP_GET:
 *     the larger of the two); TCP_CHECK's first success marks it UP and adds the server back
 *     ("Adding service … to VS …"), HTTP_GET's first success only clears its failed URL and the
 *     success of the check after it, delay_loop later, adds the server back;
 *   - a checker that has just started (keepalived's start, "Activating healthchecker for service …")
 *     runs its first attempt BOOTSTRAP_DELAY 1 s + a random warmup in [0, warmup) later (warmup
 *     defaults to delay_loop; check_api.c register_checkers_thread), and for that attempt one failure
 *     is enough: keepalived starts every checker with its retries used up (check_data.c: "For non
 *     alpha mode, one failure is enough initially", retry_it = retry). It logs the first attempt's
 *     outcome either way ("TCP connection to … success." / "TCP_CHECK on service … failed.");
 *   - defaults: retry 1; delay_before_retry 1 s (TCP_CHECK) or 3 s (HTTP_GET); connect_timeout 5 s.
 *     `nb_get_retry` is the deprecated HTTP_GET/SSL_GET spelling of `retry`: inside TCP_CHECK
 *     keepalived does not know it at all ("Unknown keyword 'nb_get_retry'") and keeps retry 1.
 *
 * So a real server that starts refusing connections is removed
 *     between retry × delay_before_retry             (the fault just before a scheduled check)
 *     and     delay_loop + retry × delay_before_retry (just after one)
 * after the fault, plus up to (retry + 1) × connect_timeout when the server does not answer at all. The
 * often-quoted "delay_loop + connect_timeout × retry" leaves out the pauses between the attempts
 * and the first attempt itself.
 */
import { type ExpectedWindow, OBSERVATION_SLACK_MS } from "./vrrp-timing.ts";

export type HealthCheckKind = "TCP_CHECK" | "HTTP_GET";

export interface HealthCheckTiming {
  kind: HealthCheckKind;
  delayLoopMs: number;
  connectTimeoutMs: number;
  retry: number;
  delayBeforeRetryMs: number;
}

/** keepalived's defaults (check_api.c queue_checker, check_http.c http_get_handler, check_data.c). */
export const CHECK_DEFAULTS = {
  retry: 1,
  delayBeforeRetryMs: { TCP_CHECK: 1000, HTTP_GET: 3000 },
  connectTimeoutMs: 5000,
  delayLoopMs: 60_000,
} as const;

/** How a failed real server fails its checks: `refused` (a reset: its port is closed), `silent` (no answer: connect_timeout). */
export type CheckFailure = "refused" | "silent";

/** Extra slack an engine adds (e.g. a TCG guest's late timers), with the reason, stated in every formula. */
export interface EngineSlack {
  ms: number;
  why: string;
}

function slackText(extra: EngineSlack | undefined): string {
  return `± ${OBSERVATION_SLACK_MS} ms observation slack${extra && extra.ms > 0 ? ` ± ${extra.ms} ms ${extra.why}` : ""}`;
}

function totalSlack(extra: EngineSlack | undefined): number {
  return OBSERVATION_SLACK_MS + (extra?.ms ?? 0);
}

/**
 * Fault (the server starts failing its checks) → keepalived removes it from the virtual service.
 * `refused`: every attempt ends at once. `silent` (the host is gone): an attempt lasts up to
 * connect_timeout — or ends at once when the director's kernel already knows the address does not
 * answer ARP (EHOSTUNREACH), so the lower bound is that of a refused server.
 *
 * `failedBefore` (k, 0 ≤ k ≤ retry): attempts that had already failed in a row when the fault came —
 * a checker that timed out on a healthy server, or one already in its retries. Its next attempt is
 * then due delay_before_retry after the last failure, so within delay_before_retry of the fault (not
 * delay_loop), and only retry + 1 − k failures in a row are still needed.
 */
export function expectedRealServerRemoval(t: HealthCheckTiming, failure: CheckFailure, extra?: EngineSlack, failedBefore = 0): ExpectedWindow {
  if (!Number.isInteger(failedBefore) || failedBefore < 0 || failedBefore > t.retry) {
    throw new RangeError(`failedBefore must be an integer in [0, retry ${t.retry}], got ${failedBefore}`);
  }
  const attempt = failure === "refused" ? 0 : t.connectTimeoutMs;
  const attempts = t.retry + 1 - failedBefore;
  const retriesLeft = t.retry - failedBefore;
  const retries = retriesLeft * t.delayBeforeRetryMs;
  const min = retries;
  const firstWait = failedBefore === 0 ? t.delayLoopMs : t.delayBeforeRetryMs;
  const max = firstWait + retries + attempts * attempt;
  const attemptText = failure === "refused" ? "each attempt refused at once" : `each attempt ends within connect_timeout ${fmt(t.connectTimeoutMs)}`;
  const start =
    failedBefore === 0
      ? `the next check within delay_loop ${fmt(t.delayLoopMs)}, then retry ${t.retry} × delay_before_retry ${fmt(t.delayBeforeRetryMs)} `
      : `${failedBefore} attempt(s) had already failed before the fault: the next within delay_before_retry ${fmt(t.delayBeforeRetryMs)}, ` +
        `then ${retriesLeft} more × delay_before_retry ${fmt(t.delayBeforeRetryMs)} `;
  return {
    minMs: Math.max(0, min - totalSlack(extra)),
    maxMs: max + totalSlack(extra),
    formula: `${t.kind}: ${start}(${attempts}${failedBefore === 0 ? "" : " more"} failed attempt${attempts === 1 ? "" : "s"} in a row; ${attemptText}) = [${fmt(min)}, ${fmt(max)}] ${slackText(extra)}`,
  };
}

/** keepalived's pause between a checker's start and its first attempt, before the random warmup (lib/scheduler.h BOOTSTRAP_DELAY = TIMER_HZ). */
export const CHECKER_BOOTSTRAP_DELAY_MS = 1000;

/**
 * Fault → removal when the director's checker of the server had started `sinceStartMs` before the
 * fault (keepalived's "Activating healthchecker" line) and its first attempt had not ended by then.
 * That attempt comes BOOTSTRAP_DELAY 1 s + a random warmup below delay_loop after the start, and its
 * one failure takes the server out (no retries: keepalived starts a checker with them used up). An
 * attempt already under way at the fault fails with it, so the removal may follow the fault at once;
 * the latest is the last moment the attempt can come, plus one attempt.
 */
export function expectedFirstCheckRemoval(t: HealthCheckTiming, failure: CheckFailure, sinceStartMs: number, extra?: EngineSlack): ExpectedWindow {
  if (!Number.isFinite(sinceStartMs) || sinceStartMs < 0) throw new RangeError(`sinceStartMs must be a finite number ≥ 0, got ${sinceStartMs}`);
  const attempt = failure === "refused" ? 0 : t.connectTimeoutMs;
  const earliest = CHECKER_BOOTSTRAP_DELAY_MS - sinceStartMs;
  const latest = CHECKER_BOOTSTRAP_DELAY_MS + t.delayLoopMs - sinceStartMs;
  const min = Math.max(0, earliest);
  const max = Math.max(0, latest + attempt);
  const attemptText = failure === "refused" ? "refused at once" : `ending within connect_timeout ${fmt(t.connectTimeoutMs)}`;
  return {
    minMs: Math.max(0, min - totalSlack(extra)),
    maxMs: max + totalSlack(extra),
    formula:
      `${t.kind}: the checker started ${fmt(sinceStartMs)} before the fault and its first attempt had not ended; that attempt comes ` +
      `BOOTSTRAP_DELAY ${fmt(CHECKER_BOOTSTRAP_DELAY_MS)} + a random warmup below delay_loop ${fmt(t.delayLoopMs)} after the start (or was under way at the fault), ` +
      `${attemptText}, and its one failure removes the server (keepalived starts a checker with its retries used up) = [${fmt(min)}, ${fmt(max)}] ${slackText(extra)}`,
  };
}

/**
 * Fault healed (the server answers again) → keepalived adds it back. A DOWN checker tries again at
 * most max(delay_loop, delay_before_retry) later, and an attempt may take up to connect_timeout
 * before it succeeds (an HTTP_GET sends its request and reads the answer too).
 *   - TCP_CHECK (check_tcp.c tcp_epilog): that first success marks the checker UP.
 *   - HTTP_GET (check_http.c epilog): the first success only clears the failed URL and schedules
 *     the next check delay_loop later; that second success marks it UP. So at least delay_loop.
 */
export function expectedRealServerReturn(t: HealthCheckTiming, extra?: EngineSlack): ExpectedWindow {
  const gap = Math.max(t.delayLoopMs, t.delayBeforeRetryMs);
  const firstSuccess = gap + t.connectTimeoutMs;
  const secondCheck = t.kind === "HTTP_GET" ? t.delayLoopMs + t.connectTimeoutMs : 0;
  const min = t.kind === "HTTP_GET" ? t.delayLoopMs : 0;
  const retry =
    `${t.kind}: a DOWN checker tries again at most max(delay_loop ${fmt(t.delayLoopMs)}, delay_before_retry ${fmt(t.delayBeforeRetryMs)}) later, ` +
    `and that attempt succeeds within connect_timeout ${fmt(t.connectTimeoutMs)}`;
  return {
    minMs: Math.max(0, min - totalSlack(extra)),
    maxMs: firstSuccess + secondCheck + totalSlack(extra),
    formula:
      t.kind === "HTTP_GET"
        ? `${retry}; that success only clears the failed URL, and the next check, delay_loop later (within connect_timeout), adds it back ` +
          `= [${fmt(min)}, ${fmt(firstSuccess + secondCheck)}] ${slackText(extra)}`
        : `${retry}; the success adds it back ${slackText(extra)}`,
  };
}

/** A window from vrrp-timing.ts (or this file) widened by an engine's own slack on both ends, said in its formula. */
export function withEngineSlack(w: ExpectedWindow, extra: EngineSlack | undefined): ExpectedWindow {
  if (!extra || extra.ms <= 0) return w;
  return { minMs: Math.max(0, w.minMs - extra.ms), maxMs: w.maxMs + extra.ms, formula: `${w.formula} ± ${extra.ms} ms ${extra.why}` };
}

/**
 * persistence_timeout: IPVS keeps a template (client address → real server) while connections
 * from that client exist and for the timeout after the last one ends; while it lives, every new
 * connection of that client goes to the same real server — unless that server left the service,
 * which invalidates the template (ip_vs_check_template).
 */
export function persistenceHolds(requestGapMs: number, persistenceTimeoutMs: number): boolean {
  return requestGapMs < persistenceTimeoutMs;
}

function fmt(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(3)} s` : `${ms.toFixed(1)} ms`;
}
