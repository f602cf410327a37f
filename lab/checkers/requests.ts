/**
 * What the clients saw: error windows, error counts, and a summary of who served what.
 *
 * The client sends idempotent GETs, so every request is simply good or bad. A request is **failed**
 * when its outcome is anything but `ok` — `http-error`, `refused`, `timeout`, `reset`, `error`
 * (`RequestOutcome` in ops.ts) or an outcome this code does not know — or when it carries an HTTP
 * status of 500 or more (such a request is counted as `http-error` whatever its recorded outcome).
 * Windows select requests by their start, `atMs`, half-open: fromMs ≤ atMs < toMs.
 */
import type { Op, RequestOp, RequestOutcome } from "../history/ops.ts";
import { list, ms, plural } from "./format.ts";
import { requestOps } from "./select.ts";
import { type Checker, Inconclusive, runCheck } from "./types.ts";

const OUTCOMES: readonly RequestOutcome[] = ["ok", "http-error", "refused", "timeout", "reset", "error"];

/** The outcome a request counts as: its own, except that a 5xx status is always `http-error`. */
export function effectiveOutcome(r: RequestOp): string {
  if (r.status !== undefined && r.status >= 500) return "http-error";
  return r.outcome;
}

export function isFailed(r: RequestOp): boolean {
  return effectiveOutcome(r) !== "ok";
}

// ---------------------------------------------------------------------------------------------
// error windows

export interface ErrorWindow {
  /** Start of the window's first failed request. */
  fromMs: number;
  /** The latest end among the window's failed requests. */
  toMs: number;
  /** Failed requests in the window. */
  count: number;
}

export interface ErrorWindowOptions {
  /** One stream; default: every stream, each windowed on its own, then merged. */
  stream?: string;
  /** Merge windows separated by a gap of at most this many ms. Default 0 (only overlapping or touching ones). */
  mergeGapMs?: number;
}

/**
 * Windows of consecutive failed requests, defined precisely:
 *   1. Take one stream's requests in order of start (`atMs`).
 *   2. A run is a maximal sequence of failed requests in that order; an `ok` request ends the run
 *      (it started after the run's last failed request, since the order is by start).
 *   3. A run's window goes from its first failed request's start to the latest end (`endMs`) of its
 *      failed requests; `count` is the number of failed requests.
 *   4. Windows that overlap, touch, or are no more than `mergeGapMs` apart are merged (counts add).
 *      With a sequential client windows never overlap; with concurrent requests, or several streams,
 *      a long timeout can outlast an `ok` started after it, and the two runs become one window.
 */
export function errorWindows(ops: readonly Op[], options: ErrorWindowOptions = {}): ErrorWindow[] {
  const gap = options.mergeGapMs ?? 0;
  if (!(gap >= 0)) throw new RangeError(`Expected mergeGapMs to be a non-negative number, got ${gap}`);
  const requests = requestOps(ops, options.stream);
  const streams = new Map<string, RequestOp[]>();
  for (const r of requests) {
    const s = streams.get(r.stream);
    if (s) s.push(r);
    else streams.set(r.stream, [r]);
  }
  const runs: ErrorWindow[] = [];
  for (const stream of streams.values()) {
    let cur: ErrorWindow | undefined;
    for (const r of stream) {
      if (!isFailed(r)) {
        cur = undefined;
        continue;
      }
      const end = Math.max(r.endMs, r.atMs);
      if (cur === undefined) {
        cur = { fromMs: r.atMs, toMs: end, count: 1 };
        runs.push(cur);
      } else {
        cur.toMs = Math.max(cur.toMs, end);
        cur.count++;
      }
    }
  }
  runs.sort((a, b) => a.fromMs - b.fromMs || a.toMs - b.toMs);
  const merged: ErrorWindow[] = [];
  for (const w of runs) {
    const last = merged.at(-1);
    if (last && w.fromMs - last.toMs <= gap) {
      last.toMs = Math.max(last.toMs, w.toMs);
      last.count += w.count;
    } else {
      merged.push({ ...w });
    }
  }
  return merged;
}

// ---------------------------------------------------------------------------------------------
// summary

export interface LatencySummary {
  /** Nearest-rank percentiles of `endMs − atMs` over the ok requests; null when there are none. */
  p50: number | null;
  p99: number | null;
  max: number | null;
}

export interface RequestSummary {
  total: number;
  ok: number;
  failed: number;
  /** Every `RequestOutcome` (0 when absent), plus any unknown outcome seen; by effective outcome. */
  byOutcome: Record<string, number>;
  /**
   * Requests by "lb→backend" (e.g. "lb1→web2"), over every request that names a load balancer or a
   * backend, failed ones included; "?" stands for the missing half (a 502 from lb1 is "lb1→?").
   */
  byServer: Record<string, number>;
  /** Requests that name a load balancer, by load balancer. */
  byLb: Record<string, number>;
  /** Requests that name a backend, by backend. */
  byBackend: Record<string, number>;
  latencyMs: LatencySummary;
}

export function requestSummary(ops: readonly Op[], stream?: string): RequestSummary {
  const requests = requestOps(ops, stream);
  const byOutcome: Record<string, number> = Object.fromEntries(OUTCOMES.map((o) => [o, 0]));
  const byServer: Record<string, number> = {};
  const byLb: Record<string, number> = {};
  const byBackend: Record<string, number> = {};
  const latencies: number[] = [];
  for (const r of requests) {
    const outcome = effectiveOutcome(r);
    byOutcome[outcome] = (byOutcome[outcome] ?? 0) + 1;
    if (outcome === "ok") latencies.push(r.endMs - r.atMs);
    if (r.lb !== undefined || r.backend !== undefined) {
      const key = `${r.lb ?? "?"}→${r.backend ?? "?"}`;
      byServer[key] = (byServer[key] ?? 0) + 1;
    }
    if (r.lb !== undefined) byLb[r.lb] = (byLb[r.lb] ?? 0) + 1;
    if (r.backend !== undefined) byBackend[r.backend] = (byBackend[r.backend] ?? 0) + 1;
  }
  const ok = byOutcome["ok"] ?? 0;
  latencies.sort((a, b) => a - b);
  return {
    total: requests.length,
    ok,
    failed: requests.length - ok,
    byOutcome,
    byServer: sortKeys(byServer),
    byLb: sortKeys(byLb),
    byBackend: sortKeys(byBackend),
    latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) ?? null },
  };
}

/** Nearest-rank percentile of sorted values: the value at rank ⌈p/100 × n⌉. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] ?? null;
}

function sortKeys(r: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

// ---------------------------------------------------------------------------------------------
// checkers

export interface RequestWindowOptions {
  stream?: string;
  /** Requests starting at or after this time. Default: the start of the history. */
  fromMs?: number;
  /** Requests starting before this time. Default: the end of the history. */
  toMs?: number;
  name?: string;
}

export interface MaxErrorsOptions extends RequestWindowOptions {
  max: number;
}

/** No failed request in the window. measured = failed requests. Unknown when the window has no request at all. */
export function zeroErrors(options: RequestWindowOptions = {}): Checker {
  return errorCount({ ...options, max: 0 }, options.name ?? `zero-errors(${describeWindow(options)})`);
}

/** At most `max` failed requests in the window. measured = failed requests. Unknown when the window has no request. */
export function maxErrors(options: MaxErrorsOptions): Checker {
  return errorCount(options, options.name ?? `max-errors(${options.max}, ${describeWindow(options)})`);
}

function errorCount(options: MaxErrorsOptions, name: string): Checker {
  const { max, stream } = options;
  const from = options.fromMs ?? -Infinity;
  const to = options.toMs ?? Infinity;
  const expected = `${max === 0 ? "no failed request" : `at most ${plural(max, "failed request")}`} ${describeWindow(options)}`;
  return (ops) =>
    runCheck(
      name,
      () => {
        if (!(Number.isInteger(max) && max >= 0)) {
          throw new RangeError(`Expected max to be a non-negative integer, got ${max}`);
        }
        const inWindow = requestOps(ops, stream).filter((r) => r.atMs >= from && r.atMs < to);
        if (inWindow.length === 0) {
          throw new Inconclusive(`no request ${describeWindow(options)}: the client sent nothing to judge`);
        }
        const failed = inWindow.filter(isFailed);
        const windows = errorWindows(inWindow);
        return {
          verdict: failed.length <= max ? "pass" : "fail",
          measured: failed.length,
          expected,
          unit: "count",
          detail:
            `${failed.length} of ${inWindow.length} requests failed` +
            (windows.length ? `: ${list(windows.map((w) => `${w.count} in [${ms(w.fromMs)}, ${ms(w.toMs)}]`))}` : ""),
        };
      },
      { expected, unit: "count" },
    );
}

function describeWindow(o: RequestWindowOptions): string {
  const stream = o.stream === undefined ? "all streams" : `stream ${o.stream}`;
  if (o.fromMs === undefined && o.toMs === undefined) return `on ${stream}`;
  return `on ${stream}, starting in [${o.fromMs ?? "start"}, ${o.toMs ?? "end"}) ms`;
}

export interface NotServedByOptions extends RequestWindowOptions {
  /** The backend (X-Lab-Backend) or load balancer that must not serve. */
  backend?: string;
  lb?: string;
}

/**
 * No request in the window was answered by the given backend or load balancer (nginx routed around
 * it). measured = requests it served. Unknown when the window has no successful request at all.
 */
export function notServedBy(options: NotServedByOptions): Checker {
  const who = options.backend ? `backend ${options.backend}` : `lb ${options.lb ?? "?"}`;
  const name = options.name ?? `not-served-by(${who})`;
  const expected = `no request starting in [${options.fromMs ?? "start"}, ${options.toMs ?? "end"}) ms is served by ${who}`;
  return (ops) =>
    runCheck(
      name,
      () => {
        if (!options.backend && !options.lb) throw new Error("notServedBy needs a backend or an lb");
        const reqs = requestOps(ops, options.stream).filter((r) => r.atMs >= (options.fromMs ?? -Infinity) && r.atMs < (options.toMs ?? Infinity));
        const served = reqs.filter((r) => r.outcome === "ok");
        if (served.length === 0) throw new Inconclusive(`no successful request in the window: nothing to judge`);
        const bad = served.filter((r) => (options.backend ? r.backend === options.backend : r.lb === options.lb));
        return { verdict: bad.length === 0 ? "pass" : "fail", measured: bad.length, unit: "count", expected, ...(bad.length ? { detail: `first at ${bad[0]!.atMs.toFixed(1)} ms; ${bad.slice(0, 5).map(describeRequest).join(", ")}${bad.length > 5 ? ", …" : ""}` } : {}) };
      },
      { expected, unit: "count" },
    );
}

/** A request in a few words: when it started and, when known, from which client address and port. */
function describeRequest(r: RequestOp): string {
  const from = r.source ? ` from ${r.source}${r.sourcePort ? `:${r.sourcePort}` : ""}` : "";
  return `${r.atMs.toFixed(1)} ms${from}`;
}

/** At least one request in the window was answered by the given backend or load balancer. measured = how many. */
export function servedBy(options: NotServedByOptions): Checker {
  const who = options.backend ? `backend ${options.backend}` : `lb ${options.lb ?? "?"}`;
  const name = options.name ?? `served-by(${who})`;
  const expected = `at least one request starting in [${options.fromMs ?? "start"}, ${options.toMs ?? "end"}) ms is served by ${who}`;
  return (ops) =>
    runCheck(
      name,
      () => {
        if (!options.backend && !options.lb) throw new Error("servedBy needs a backend or an lb");
        const reqs = requestOps(ops, options.stream).filter((r) => r.atMs >= (options.fromMs ?? -Infinity) && r.atMs < (options.toMs ?? Infinity));
        if (reqs.length === 0) throw new Inconclusive("no request in the window: nothing to judge");
        const n = reqs.filter((r) => r.outcome === "ok" && (options.backend ? r.backend === options.backend : r.lb === options.lb)).length;
        return { verdict: n > 0 ? "pass" : "fail", measured: n, unit: "count", expected };
      },
      { expected, unit: "count" },
    );
}
