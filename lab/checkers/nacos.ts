/**
 * What the Nacos workload saw, as pure functions of the history's `nacos` ops (lab/history/ops.ts):
 * error windows and a summary for the report, and the checkers of a Nacos cluster behind the VIP —
 * calls recover after a load-balancer failover, a killed member is reported DOWN and back UP by its
 * peers, nginx routes around it, and no acknowledged config write is lost.
 *
 * A call is **failed** when its outcome is not `ok` (as for requests; a status ≥ 500 always counts
 * as failed). Windows select calls by their start, `atMs`, half-open: fromMs ≤ atMs < toMs.
 */
import type { NacosOp, NacosOperation, NacosViewOp, Op } from "../history/ops.ts";
import { type FaultAnchor, type FaultRef, describeResolved, resolveFault } from "./faults.ts";
import { list, ms, plural } from "./format.ts";
import { byTime } from "./select.ts";
import { type Checker, Inconclusive, runCheck } from "./types.ts";

export const NACOS_OPERATIONS: readonly NacosOperation[] = ["register", "beat", "list", "publish", "get-config", "cluster-nodes", "server-check"];

/** The Nacos calls, by start time; optionally one operation, and without the end-of-run verification reads. */
export function nacosOps(ops: readonly Op[], options: { operation?: NacosOperation; includeFinal?: boolean } = {}): NacosOp[] {
  return byTime(
    ops.filter(
      (o): o is NacosOp =>
        o.f === "nacos" && (options.operation === undefined || o.operation === options.operation) && (options.includeFinal !== false || o.phase !== "final"),
    ),
  );
}

export function isNacosFailed(op: NacosOp): boolean {
  return op.outcome !== "ok" || (op.status !== undefined && op.status >= 500 && op.operation !== "server-check");
}

export interface NacosErrorWindow {
  fromMs: number;
  toMs: number;
  count: number;
}

/**
 * Windows of failed calls, defined like the requests' (checkers/requests.ts): every call by start; a
 * run of failed calls ends at an ok call; a window goes from its first failed call's start to the
 * latest end of its failed calls; overlapping or touching windows merge (the loops run concurrently,
 * so a long timeout can outlast an ok call started after it).
 */
export function nacosErrorWindows(calls: readonly NacosOp[]): NacosErrorWindow[] {
  const runs: NacosErrorWindow[] = [];
  let cur: NacosErrorWindow | undefined;
  for (const c of byTime(calls)) {
    if (!isNacosFailed(c)) {
      cur = undefined;
      continue;
    }
    const end = Math.max(c.endMs, c.atMs);
    if (cur === undefined) {
      cur = { fromMs: c.atMs, toMs: end, count: 1 };
      runs.push(cur);
    } else {
      cur.toMs = Math.max(cur.toMs, end);
      cur.count++;
    }
  }
  runs.sort((a, b) => a.fromMs - b.fromMs);
  const merged: NacosErrorWindow[] = [];
  for (const w of runs) {
    const last = merged.at(-1);
    if (last && w.fromMs <= last.toMs) {
      last.toMs = Math.max(last.toMs, w.toMs);
      last.count += w.count;
    } else merged.push({ ...w });
  }
  return merged;
}

export interface NacosSummary {
  total: number;
  ok: number;
  failed: number;
  byOperation: Record<string, { total: number; ok: number; failed: number }>;
  byOutcome: Record<string, number>;
  /** Calls answered, by the member that answered (X-Lab-Upstream). */
  byMember: Record<string, number>;
  /** Calls answered, by load balancer (X-Lab-LB). */
  byLb: Record<string, number>;
  /** Calls nginx sent to another member first (routed around a member that failed). */
  routedAround: number;
  errorWindows: NacosErrorWindow[];
}

/** Summary of the workload's calls (the end-of-run verification reads are counted under `final`). */
export function nacosSummary(ops: readonly Op[]): NacosSummary {
  const calls = nacosOps(ops);
  const byOperation: NacosSummary["byOperation"] = {};
  const byOutcome: Record<string, number> = {};
  const byMember: Record<string, number> = {};
  const byLb: Record<string, number> = {};
  let failed = 0;
  let routedAround = 0;
  for (const c of calls) {
    const bad = isNacosFailed(c);
    if (bad) failed++;
    const key = c.phase === "final" ? "final" : c.operation;
    const o = (byOperation[key] ??= { total: 0, ok: 0, failed: 0 });
    o.total++;
    if (bad) o.failed++;
    else o.ok++;
    byOutcome[c.outcome] = (byOutcome[c.outcome] ?? 0) + 1;
    if (c.member) byMember[c.member] = (byMember[c.member] ?? 0) + 1;
    if (c.lb) byLb[c.lb] = (byLb[c.lb] ?? 0) + 1;
    if (c.triedFirst?.length) routedAround++;
  }
  return {
    total: calls.length,
    ok: calls.length - failed,
    failed,
    byOperation: sortKeys(byOperation),
    byOutcome: sortKeys(byOutcome),
    byMember: sortKeys(byMember),
    byLb: sortKeys(byLb),
    routedAround,
    errorWindows: nacosErrorWindows(calls.filter((c) => c.phase !== "final")),
  };
}

function sortKeys<T>(r: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * For each dataId with an acknowledged publish: the values a read at the end may show without a
 * lost write — the last acknowledged value, or the value of any later publish whose outcome is
 * unknown (it failed in a way that may still have applied it: a timeout, a reset, a 5xx). Writes of
 * one dataId are sequential, so "later" is by start time.
 */
export function acceptableFinalValues(ops: readonly NacosOp[]): Map<string, Set<string>> {
  const publishes = ops.filter((o) => o.operation === "publish" && o.key !== undefined && o.value !== undefined).sort((a, b) => a.atMs - b.atMs);
  const out = new Map<string, Set<string>>();
  const byKey = new Map<string, NacosOp[]>();
  for (const p of publishes) byKey.set(p.key!, [...(byKey.get(p.key!) ?? []), p]);
  for (const [key, list] of byKey) {
    const lastAck = list.map((p, i) => [p, i] as const).filter(([p]) => p.outcome === "ok").at(-1);
    if (!lastAck) continue;
    const acceptable = new Set([lastAck[0].value!]);
    for (const later of list.slice(lastAck[1] + 1)) if (mayHaveApplied(later)) acceptable.add(later.value!);
    out.set(key, acceptable);
  }
  return out;
}

/** A failed write that may still have taken effect: anything but a refused connection or a 4xx. */
export function mayHaveApplied(op: NacosOp): boolean {
  if (op.outcome === "ok") return true;
  if (op.outcome === "refused") return false;
  if (op.status !== undefined && op.status >= 400 && op.status < 500) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// checkers

export interface NacosWindowOptions {
  name?: string;
  /** One operation or several; default every operation. */
  operation?: NacosOperation | readonly NacosOperation[];
  fromMs?: number;
  toMs?: number;
}

function inWindow(ops: readonly Op[], o: NacosWindowOptions): NacosOp[] {
  const wanted = o.operation === undefined ? undefined : typeof o.operation === "string" ? [o.operation] : o.operation;
  return nacosOps(ops, { includeFinal: false }).filter((c) => (wanted === undefined || wanted.includes(c.operation)) && c.atMs >= (o.fromMs ?? -Infinity) && c.atMs < (o.toMs ?? Infinity));
}

function describeWindow(o: NacosWindowOptions): string {
  const what = o.operation === undefined ? "Nacos calls" : `${typeof o.operation === "string" ? o.operation : o.operation.join("/")} calls`;
  if (o.fromMs === undefined && o.toMs === undefined) return what;
  return `${what} starting in [${o.fromMs === undefined ? "start" : ms(o.fromMs)}, ${o.toMs === undefined ? "end" : ms(o.toMs)})`;
}

/** At most `max` failed calls in the window (`why`: where the bound comes from). measured = failed calls. Unknown when the window has no call. */
export function nacosMaxErrors(options: NacosWindowOptions & { max: number; why?: string }): Checker {
  const name = options.name ?? `nacos-max-errors(${options.max})`;
  const expected = `${options.max === 0 ? "no failed call" : `at most ${plural(options.max, "failed call")}`} among ${describeWindow(options)}${options.why ? `: ${options.why}` : ""}`;
  return (ops) =>
    runCheck(
      name,
      () => {
        if (!(Number.isInteger(options.max) && options.max >= 0)) throw new RangeError(`Expected max to be a non-negative integer, got ${options.max}`);
        const calls = inWindow(ops, options);
        if (calls.length === 0) throw new Inconclusive(`no ${describeWindow(options)}: nothing to judge`);
        const failed = calls.filter(isNacosFailed);
        const windows = nacosErrorWindows(calls);
        const byOp = new Map<string, number>();
        for (const f of failed) byOp.set(f.operation, (byOp.get(f.operation) ?? 0) + 1);
        return {
          verdict: failed.length <= options.max ? "pass" : "fail",
          measured: failed.length,
          expected,
          unit: "count",
          detail:
            `${failed.length} of ${calls.length} calls failed` +
            (failed.length ? ` (${[...byOp].map(([k, v]) => `${k} ${v}`).join(", ")}; first: ${failed[0]!.operation} at ${ms(failed[0]!.atMs)}: ${failed[0]!.outcome}${failed[0]!.error ? ` ${failed[0]!.error.slice(0, 100)}` : ""})` : "") +
            (windows.length ? `; windows ${list(windows.map((w) => `${w.count} in [${ms(w.fromMs)}, ${ms(w.toMs)}]`))}` : ""),
        };
      },
      { expected, unit: "count" },
    );
}

export interface NacosRecoveryOptions {
  name?: string;
  fault: FaultRef;
  anchor?: FaultAnchor;
  /** Only calls answered through this load balancer count (the new VIP owner). */
  lb?: string;
  expected: { minMs?: number; maxMs: number; formula: string };
}

/**
 * Nacos calls through the VIP work again after a fault: measured = fault anchor → the end of the
 * first ok call (started after the anchor; through `lb` if given). Fails when it is outside the window
 * or never comes.
 */
export function nacosRecovery(options: NacosRecoveryOptions): Checker {
  const anchor = options.anchor ?? "effect";
  const name = options.name ?? `nacos-recovery(${options.lb ?? "any lb"})`;
  const e = options.expected;
  const expected = `a Nacos call${options.lb ? ` through ${options.lb}` : ""} succeeds within [${(e.minMs ?? 0).toFixed(1)}, ${e.maxMs.toFixed(1)}] ms of the fault's ${anchor}: ${e.formula}`;
  return (ops) =>
    runCheck(
      name,
      () => {
        const f = resolveFault(ops, options.fault, anchor);
        const calls = nacosOps(ops, { includeFinal: false }).filter((c) => c.atMs >= f.atMs);
        if (calls.length === 0) throw new Inconclusive(`no Nacos call started after ${describeResolved(f, anchor)}`);
        const first = calls.filter((c) => !isNacosFailed(c) && (options.lb === undefined || c.lb === options.lb)).sort((a, b) => a.endMs - b.endMs)[0];
        if (!first) return { verdict: "fail", measured: null, expected, unit: "ms", detail: `${describeResolved(f, anchor)}; none of the ${calls.length} calls after it succeeded${options.lb ? ` through ${options.lb}` : ""}` };
        const t = first.endMs - f.atMs;
        const failedBefore = calls.filter((c) => isNacosFailed(c) && c.atMs < first.endMs).length;
        return {
          verdict: t >= (e.minMs ?? 0) && t <= e.maxMs ? "pass" : "fail",
          measured: t,
          expected,
          unit: "ms",
          detail: `${describeResolved(f, anchor)}; first ok: ${first.operation} started at ${ms(first.atMs)}, answered by ${first.lb ?? "?"}→${first.member ?? "?"} at ${ms(first.endMs)}; ${plural(failedBefore, "call")} failed in between`,
        };
      },
      { expected, unit: "ms" },
    );
}

export interface NacosMemberStateOptions {
  name?: string;
  /** The member whose state its peers report. */
  member: string;
  /** The state every peer must report within the window. */
  state: "DOWN" | "UP";
  fault: FaultRef;
  anchor?: FaultAnchor;
  /** Judge peers' views until here (e.g. the next fault); default the end. */
  untilMs?: number;
  expected: { maxMs: number; formula: string };
}

/**
 * The cluster reports a member's state, from the members' own views (`nacos-view` ops, about one a
 * second per member): every peer's view turns to `state` for `member` within `expected.maxMs` of the
 * fault's anchor and stays so (until `untilMs`). The member's own view is not asked (its list starts
 * all UP). For each peer the change lies between its last view saying otherwise and its first view
 * saying `state`; it passes when that could be within the window — no peer said otherwise later —
 * and measured is when the last peer's view showed it (the upper end).
 */
export function nacosMemberState(options: NacosMemberStateOptions): Checker {
  const anchor = options.anchor ?? "effect";
  const name = options.name ?? `nacos-member-${options.state.toLowerCase()}(${options.member})`;
  const expected = `every peer's own view shows ${options.member} ${options.state} within ${options.expected.maxMs.toFixed(1)} ms of the fault's ${anchor}, and keeps showing it: ${options.expected.formula}`;
  return (ops) =>
    runCheck(
      name,
      () => {
        const f = resolveFault(ops, options.fault, anchor);
        const deadline = f.atMs + options.expected.maxMs;
        const views = byTime(ops.filter((o): o is NacosViewOp => o.f === "nacos-view" && o.node !== options.member && o.members !== undefined && o.atMs >= f.atMs && o.atMs < (options.untilMs ?? Infinity)));
        const peers = [...new Set(views.map((v) => v.node))].sort();
        if (peers.length === 0) throw new Inconclusive(`no peer of ${options.member} showed its view of the cluster after ${describeResolved(f, anchor)}`);
        const spans: string[] = [];
        const bad: string[] = [];
        let measured = -Infinity;
        let undecided = false;
        for (const peer of peers) {
          const mine = views.filter((v) => v.node === peer);
          const say = (v: NacosViewOp) => v.members![options.member] ?? "absent";
          const firstIdx = mine.findIndex((v) => say(v) === options.state);
          if (firstIdx < 0) {
            if (mine.some((v) => v.atMs > deadline)) bad.push(`${peer} never showed ${options.state} (last: ${say(mine.at(-1)!)} at ${ms(mine.at(-1)!.atMs)})`);
            else undecided = true;
            continue;
          }
          const first = mine[firstIdx]!;
          const before = mine.slice(0, firstIdx).at(-1);
          const after = mine.slice(firstIdx + 1).find((v) => say(v) !== options.state);
          measured = Math.max(measured, first.endMs - f.atMs);
          spans.push(`${peer} between ${before ? `${ms(before.atMs - f.atMs)} (${say(before)})` : "the fault"} and ${ms(first.endMs - f.atMs)}`);
          if (before && before.atMs > deadline) bad.push(`${peer} still showed ${say(before)} at ${ms(before.atMs - f.atMs)}`);
          if (after) bad.push(`${peer} showed ${say(after)} again at ${ms(after.atMs - f.atMs)}`);
        }
        const detail = `${describeResolved(f, anchor)}; ${options.state} in the view of ${spans.length ? spans.join("; ") : "no peer"} after it${bad.length ? `; ${bad.join("; ")}` : ""}`;
        if (bad.length) return { verdict: "fail", measured: Number.isFinite(measured) ? measured : null, expected, unit: "ms", detail };
        if (undecided || !Number.isFinite(measured)) throw new Inconclusive(`${detail}; a peer's views end before the deadline ${ms(deadline)}, so nothing shows whether it changed in time`);
        return { verdict: "pass", measured, expected, unit: "ms", detail };
      },
      { expected, unit: "ms" },
    );
}

/** No ok call in the window was answered by `member` (nginx routed around it). measured = calls it answered. */
export function nacosNotServedBy(options: NacosWindowOptions & { member: string }): Checker {
  const name = options.name ?? `nacos-not-served-by(${options.member})`;
  const expected = `no ${describeWindow(options)} is answered by ${options.member}`;
  return (ops) =>
    runCheck(
      name,
      () => {
        const calls = inWindow(ops, options).filter((c) => !isNacosFailed(c));
        if (calls.length === 0) throw new Inconclusive(`no successful ${describeWindow(options)}: nothing to judge`);
        const bad = calls.filter((c) => c.member === options.member);
        const around = calls.filter((c) => c.triedFirst?.includes(options.member)).length;
        return {
          verdict: bad.length === 0 ? "pass" : "fail",
          measured: bad.length,
          expected,
          unit: "count",
          detail: `${calls.length} calls answered by ${[...new Set(calls.map((c) => c.member ?? "?"))].sort().join(", ")}; ${plural(around, "call")} tried ${options.member} first and went on to another member${bad.length ? `; first answered by ${options.member} at ${ms(bad[0]!.atMs)}` : ""}`,
        };
      },
      { expected, unit: "count" },
    );
}

/** At least one ok call in the window (of `operation`, answered by `member` if given). measured = how many. */
export function nacosServedBy(options: NacosWindowOptions & { member?: string }): Checker {
  const who = options.member ? ` answered by ${options.member}` : "";
  const name = options.name ?? `nacos-served${options.member ? `-by(${options.member})` : ""}`;
  const expected = `at least one successful ${describeWindow(options)}${who}`;
  return (ops) =>
    runCheck(
      name,
      () => {
        const calls = inWindow(ops, options);
        if (calls.length === 0) throw new Inconclusive(`no ${describeWindow(options)}: nothing to judge`);
        const good = calls.filter((c) => !isNacosFailed(c) && (options.member === undefined || c.member === options.member));
        return { verdict: good.length > 0 ? "pass" : "fail", measured: good.length, unit: "count", expected, detail: `${good.length} of ${calls.length} calls` };
      },
      { expected, unit: "count" },
    );
}

/**
 * No acknowledged write is lost: for every dataId with a publish Nacos acknowledged, the last
 * end-of-run read (`phase: final`) that got an answer shows the config with the last acknowledged
 * value — or the value of a later publish whose outcome is unknown (it may have been applied).
 * measured = dataIds whose write is lost (missing, or an older or foreign value). Unknown when a
 * dataId was not read back with an answer, or nothing was acknowledged.
 */
export function nacosNoLostWrites(options: { name?: string } = {}): Checker {
  const name = options.name ?? "nacos-no-acknowledged-write-lost";
  const expected = "every dataId Nacos acknowledged a publish of reads back, at the end, with its last acknowledged value (or a later write's whose outcome is unknown)";
  return (ops) =>
    runCheck(
      name,
      () => {
        const calls = nacosOps(ops);
        const acceptable = acceptableFinalValues(calls.filter((c) => c.phase !== "final"));
        if (acceptable.size === 0) throw new Inconclusive("no publish was acknowledged: there is no write to lose");
        const acked = calls.filter((c) => c.operation === "publish" && c.outcome === "ok").length;
        const lost: string[] = [];
        const unread: string[] = [];
        for (const [key, values] of acceptable) {
          const read = calls.filter((c) => c.phase === "final" && c.operation === "get-config" && c.key === key && !isNacosFailed(c)).at(-1);
          if (!read) unread.push(key);
          else if (read.found !== true) lost.push(`${key}: not found (expected ${[...values].join(" or ")})`);
          else if (!values.has(read.value ?? "")) lost.push(`${key}: read ${JSON.stringify(read.value)} from ${read.member ?? "?"}, expected ${[...values].join(" or ")}`);
        }
        const detail = `${acceptable.size} dataIds, ${acked} acknowledged publishes; ${lost.length ? `lost: ${list(lost)}` : "none lost"}${unread.length ? `; not read back: ${list(unread)}` : ""}`;
        if (lost.length) return { verdict: "fail", measured: lost.length, expected, unit: "count", detail };
        if (unread.length) throw new Inconclusive(detail);
        return { verdict: "pass", measured: 0, expected, unit: "count", detail };
      },
      { expected, unit: "count" },
    );
}

/**
 * The acknowledged writes are where the storage keeps them: `stored` is what a direct read of the
 * storage gave at the end (dataId → content, e.g. MariaDB's config_info), and every dataId with an
 * acknowledged publish must hold an acceptable value there (as in `nacosNoLostWrites`).
 * measured = dataIds missing or wrong in the storage.
 */
export function nacosStoredWrites(options: { name?: string; stored: ReadonlyMap<string, string>; storage: string }): Checker {
  const name = options.name ?? "nacos-writes-stored";
  const expected = `every dataId Nacos acknowledged a publish of is in ${options.storage} with its last acknowledged value (or a later write's whose outcome is unknown)`;
  return (ops) =>
    runCheck(
      name,
      () => {
        const acceptable = acceptableFinalValues(nacosOps(ops, { includeFinal: false }));
        if (acceptable.size === 0) throw new Inconclusive("no publish was acknowledged: there is no write to look for");
        const wrong: string[] = [];
        for (const [key, values] of acceptable) {
          const got = options.stored.get(key);
          if (got === undefined) wrong.push(`${key}: absent`);
          else if (!values.has(got)) wrong.push(`${key}: ${JSON.stringify(got)}, expected ${[...values].join(" or ")}`);
        }
        return {
          verdict: wrong.length ? "fail" : "pass",
          measured: wrong.length,
          expected,
          unit: "count",
          detail: `${acceptable.size} dataIds checked in ${options.storage} (${options.stored.size} rows)${wrong.length ? `; ${list(wrong)}` : ""}`,
        };
      },
      { expected, unit: "count" },
    );
}

export interface NacosOutageOptions extends NacosWindowOptions {
  fault: FaultRef;
  anchor?: FaultAnchor;
  /** Judge calls starting before this (e.g. the next fault); default the end. */
  untilMs?: number;
  expected: { maxMs: number; formula: string };
}

/**
 * How long calls (of `operation`) kept failing after a fault: measured = fault anchor → the end of
 * the last failed call that started in [anchor, untilMs); 0 when none failed. Pass when ≤ maxMs.
 * Unknown when no such call was made after the anchor.
 */
export function nacosOutage(options: NacosOutageOptions): Checker {
  const anchor = options.anchor ?? "effect";
  const name = options.name ?? "nacos-outage";
  const expected = `${describeWindow(options)} stop failing within ${options.expected.maxMs.toFixed(1)} ms of the fault's ${anchor}: ${options.expected.formula}`;
  return (ops) =>
    runCheck(
      name,
      () => {
        const f = resolveFault(ops, options.fault, anchor);
        const calls = inWindow(ops, { ...options, fromMs: f.atMs, toMs: options.untilMs ?? Infinity });
        if (calls.length === 0) throw new Inconclusive(`no ${describeWindow(options)} after ${describeResolved(f, anchor)}`);
        const failed = calls.filter(isNacosFailed);
        const last = failed.sort((a, b) => a.endMs - b.endMs).at(-1);
        const t = last ? last.endMs - f.atMs : 0;
        return {
          verdict: t <= options.expected.maxMs ? "pass" : "fail",
          measured: t,
          expected,
          unit: "ms",
          detail: `${describeResolved(f, anchor)}; ${failed.length} of ${calls.length} calls failed${last ? `, the last ${last.operation} at ${ms(last.atMs)} (${last.outcome}${last.error ? `: ${last.error.slice(0, 120)}` : ""})` : ""}`,
        };
      },
      { expected, unit: "ms" },
    );
}
