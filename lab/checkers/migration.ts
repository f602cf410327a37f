/**
 * How long the VIP took to move after a fault, and how long until clients were served by the new
 * owner. Expected windows come from `protocol/vrrp-timing.ts`; this file never invents a number.
 */
import type { Op } from "../history/ops.ts";
import type { ExpectedWindow } from "../protocol/vrrp-timing.ts";
import { describeFaultRef, describeResolved, type FaultAnchor, type FaultRef, resolveFault } from "./faults.ts";
import { ms, round1 } from "./format.ts";
import { formatOwners, ownersBefore, ownershipIntervals, ownerTimeline } from "./ownership.ts";
import { effectiveOutcome } from "./requests.ts";
import { requestOps } from "./select.ts";
import { type Checker, Inconclusive, runCheck } from "./types.ts";

export interface MigrationTimeOptions {
  vip: string;
  /** The fault the time is measured from. */
  fault: FaultRef;
  /** The node expected to hold the VIP when the fault hits; checked when given. */
  from?: string;
  /** The node the VIP should move to. */
  to: string;
  /** Measure from the fault's `invoke` (default) or from its `ok`. */
  anchor?: FaultAnchor;
  expected: ExpectedWindow;
  name?: string;
}

/** "within [2609.4, 3859.4] ms of the fault's invoke: <formula>". */
export function describeWindow(expected: ExpectedWindow, anchor: FaultAnchor, what = "fault"): string {
  return `within [${round1(expected.minMs).toFixed(1)}, ${round1(expected.maxMs).toFixed(1)}] ms of the ${what}'s ${anchor}: ${expected.formula}`;
}

/**
 * measured = ms from the fault's anchor to the first `acquired` of the VIP on `to` at or after it
 * (a re-reported acquisition of a VIP `to` already holds does not count: see ownership.ts).
 * pass iff minMs ≤ measured ≤ maxMs; fail with measured null when `to` never acquires the VIP.
 * unknown when the fault is missing or did not happen, when `to` already held the VIP before the
 * fault (nothing to migrate), or when `from` is given and did not hold it.
 */
export function migrationTime(options: MigrationTimeOptions): Checker {
  const { vip, fault, from, to, expected: window } = options;
  const anchor = options.anchor ?? "invoke";
  const name = options.name ?? `migration-time(${vip}${from ? ` ${from}` : ""} → ${to}, ${describeFaultRef(fault)})`;
  const expected = describeWindow(window, anchor);
  return (ops) =>
    runCheck(
      name,
      () => {
        const f = resolveFault(ops, fault, anchor);
        const before = ownersBefore(ownerTimeline(ops, vip), f.atMs);
        if (before.includes(to)) {
          throw new Inconclusive(
            `${to} already held ${vip} before ${describeResolved(f, anchor)} (owners: ${formatOwners(before)}); there is no migration to measure`,
          );
        }
        if (from !== undefined && !before.includes(from)) {
          throw new Inconclusive(
            `${from} did not hold ${vip} before ${describeResolved(f, anchor)} (owners: ${formatOwners(before)}); the scenario's premise does not hold`,
          );
        }
        const intervals = ownershipIntervals(ops, vip);
        const acquired = intervals.find((i) => i.node === to && i.fromMs >= f.atMs);
        const released =
          from === undefined ? undefined : intervals.find((i) => i.node === from && i.toMs !== null && i.toMs >= f.atMs);
        const releasedText =
          released?.toMs != null ? `; ${from} released it at ${ms(released.toMs)} (+${ms(released.toMs - f.atMs)})` : "";
        if (acquired === undefined) {
          return {
            verdict: "fail",
            measured: null,
            expected,
            unit: "ms",
            detail: `${to} never acquired ${vip} after ${describeResolved(f, anchor)}${releasedText}`,
          };
        }
        const measured = acquired.fromMs - f.atMs;
        return {
          verdict: measured >= window.minMs && measured <= window.maxMs ? "pass" : "fail",
          measured,
          expected,
          unit: "ms",
          detail: `${describeResolved(f, anchor)}; ${to} acquired ${vip} at ${ms(acquired.fromMs)}${releasedText}`,
        };
      },
      { expected, unit: "ms" },
    );
}

export interface FirstSuccessOptions {
  /** Default: every stream. */
  stream?: string;
  fault: FaultRef;
  /** The load balancer that should serve once the VIP has moved. */
  lb: string;
  anchor?: FaultAnchor;
  /** Without it the check passes as soon as such a request exists. */
  expected?: ExpectedWindow;
  name?: string;
}

/**
 * measured = ms from the fault's anchor to the END of the earliest-ending ok request served by `lb`
 * that STARTED at or after the anchor. The end, not the start: a request sent just after the fault
 * may hang until the VIP moves and then succeed; its end is when a client first had an answer.
 * fail with measured null when no such request exists; unknown when the client sent nothing after
 * the fault, or the fault is missing.
 */
export function firstSuccessByNewOwner(options: FirstSuccessOptions): Checker {
  const { stream, fault, lb, expected: window } = options;
  const anchor = options.anchor ?? "invoke";
  const name = options.name ?? `first-success(${lb}${stream === undefined ? "" : `, ${stream}`}, ${describeFaultRef(fault)})`;
  const expected = window
    ? describeWindow(window, anchor)
    : `a request served by ${lb} succeeds after the fault's ${anchor}`;
  return (ops: readonly Op[]) =>
    runCheck(
      name,
      () => {
        const f = resolveFault(ops, fault, anchor);
        const after = requestOps(ops, stream).filter((r) => r.atMs >= f.atMs);
        if (after.length === 0) {
          throw new Inconclusive(`no request started after ${describeResolved(f, anchor)}: the client sent nothing to judge`);
        }
        const first = after
          .filter((r) => effectiveOutcome(r) === "ok" && r.lb === lb)
          .reduce<(typeof after)[number] | undefined>((best, r) => (best === undefined || r.endMs < best.endMs ? r : best), undefined);
        if (first === undefined) {
          return {
            verdict: "fail",
            measured: null,
            expected,
            unit: "ms",
            detail: `none of the ${after.length} requests after ${describeResolved(f, anchor)} succeeded through ${lb}`,
          };
        }
        const measured = first.endMs - f.atMs;
        const pass = window === undefined || (measured >= window.minMs && measured <= window.maxMs);
        return {
          verdict: pass ? "pass" : "fail",
          measured,
          expected,
          unit: "ms",
          detail:
            `${describeResolved(f, anchor)}; first ok through ${lb}${first.backend ? `→${first.backend}` : ""}: ` +
            `request at ${ms(first.atMs)}, answered at ${ms(first.endMs)}`,
        };
      },
      { expected, unit: "ms" },
    );
}
