/**
 * What happens when the failed node comes back: with `preempt` (keepalived's default) the VIP returns
 * to the higher-priority node; with `nopreempt` (or equal priorities) it stays on the survivor.
 */
import type { ExpectedWindow } from "../protocol/vrrp-timing.ts";
import { describeFaultRef, describeResolved, type FaultAnchor, type FaultRef, resolveFault } from "./faults.ts";
import { list, ms } from "./format.ts";
import { describeWindow } from "./migration.ts";
import { formatOwners, ownersAt, ownersBefore, ownershipIntervals, ownerTimeline } from "./ownership.ts";
import { historyEndMs } from "./select.ts";
import { type Checker, Inconclusive, runCheck } from "./types.ts";

export interface PreemptionOptions {
  vip: string;
  /** The original master, which should take the VIP back. */
  node: string;
  /** The fault that brings it back: power-on, start-keepalived, thaw, unblock-vrrp, … */
  recovery: FaultRef;
  anchor?: FaultAnchor;
  /** From `expectedPreemption` in protocol/vrrp-timing.ts. */
  expected: ExpectedWindow;
  name?: string;
}

/**
 * measured = ms from the recovery's anchor until `node` is the VIP's ONLY owner. "Only", not "first
 * acquired": the VIP is back when the survivor has let go too, and after a thaw the frozen node
 * never lost the address, so its return shows only as the survivor's release.
 * pass iff within the window; fail with measured null when it never happens (detail says whether
 * `node` acquired at all); unknown when the recovery is missing or did not happen, or when `node`
 * was already the only owner before it (nothing to preempt).
 */
export function preemption(options: PreemptionOptions): Checker {
  const { vip, node, recovery, expected: window } = options;
  const anchor = options.anchor ?? "invoke";
  const name = options.name ?? `preemption(${vip} → ${node}, ${describeFaultRef(recovery)})`;
  const expected = describeWindow(window, anchor, "recovery");
  return (ops) =>
    runCheck(
      name,
      () => {
        const f = resolveFault(ops, recovery, anchor);
        const timeline = ownerTimeline(ops, vip);
        const before = ownersBefore(timeline, f.atMs);
        if (before.length === 1 && before[0] === node) {
          throw new Inconclusive(`${node} was already the only owner of ${vip} before ${describeResolved(f, anchor)}; nothing to preempt`);
        }
        const back = timeline.find(
          (s) => (s.toMs === null || s.toMs > f.atMs) && s.owners.length === 1 && s.owners[0] === node,
        );
        const acquired = ownershipIntervals(ops, vip).find((i) => i.node === node && i.fromMs >= f.atMs);
        const acquiredText = acquired ? `${node} acquired ${vip} at ${ms(acquired.fromMs)}` : `${node} did not acquire ${vip}`;
        if (back === undefined) {
          const end = timeline.at(-1)?.owners ?? [];
          return {
            verdict: "fail",
            measured: null,
            expected,
            unit: "ms",
            detail: `${node} never became the only owner after ${describeResolved(f, anchor)}: ${acquiredText}; owners at the end: ${formatOwners(end)}`,
          };
        }
        const at = Math.max(back.fromMs, f.atMs);
        const measured = at - f.atMs;
        return {
          verdict: measured >= window.minMs && measured <= window.maxMs ? "pass" : "fail",
          measured,
          expected,
          unit: "ms",
          detail: `${describeResolved(f, anchor)}; ${acquiredText}; only owner from ${ms(at)} (before: ${formatOwners(before)})`,
        };
      },
      { expected, unit: "ms" },
    );
}

export interface NoPreemptionOptions {
  vip: string;
  /** The node that took over and should keep the VIP. */
  node: string;
  /** The fault that brings the original master back. */
  after: FaultRef;
  anchor?: FaultAnchor;
  /** Default: the end of the history. */
  untilMs?: number;
  name?: string;
}

/**
 * `node` holds the VIP at the recovery's anchor and keeps it until `untilMs`: no other node acquires
 * it and `node` does not release it in [anchor, untilMs). measured = the number of such events.
 * fail with measured null when `node` did not hold the VIP at the anchor (the failover never happened).
 */
export function noPreemption(options: NoPreemptionOptions): Checker {
  const { vip, node, after } = options;
  const anchor = options.anchor ?? "invoke";
  const name = options.name ?? `no-preemption(${vip} stays on ${node}, ${describeFaultRef(after)})`;
  const until = options.untilMs === undefined ? "the end" : `${options.untilMs} ms`;
  const expected = `${node} keeps ${vip} from the recovery's ${anchor} to ${until}: no other node acquires it, ${node} does not release it`;
  return (ops) =>
    runCheck(
      name,
      () => {
        const f = resolveFault(ops, after, anchor);
        const untilMs = options.untilMs ?? historyEndMs(ops);
        if (!(untilMs > f.atMs)) {
          throw new Inconclusive(`the window [${ms(f.atMs)}, ${ms(untilMs)}) after ${describeResolved(f, anchor)} is empty`);
        }
        const atAnchor = ownersAt(ownerTimeline(ops, vip), f.atMs);
        if (!atAnchor.includes(node)) {
          return {
            verdict: "fail",
            measured: null,
            expected,
            unit: "count",
            detail: `${node} did not hold ${vip} at ${describeResolved(f, anchor)} (owners: ${formatOwners(atAnchor)})`,
          };
        }
        const inWindow = (t: number) => t >= f.atMs && t < untilMs;
        const events: { atMs: number; text: string }[] = [];
        for (const i of ownershipIntervals(ops, vip)) {
          if (i.node !== node && inWindow(i.fromMs)) events.push({ atMs: i.fromMs, text: `${i.node} acquired it at ${ms(i.fromMs)}` });
          if (i.node === node && i.toMs !== null && inWindow(i.toMs)) events.push({ atMs: i.toMs, text: `${node} released it at ${ms(i.toMs)}` });
        }
        events.sort((a, b) => a.atMs - b.atMs);
        return {
          verdict: events.length === 0 ? "pass" : "fail",
          measured: events.length,
          expected,
          unit: "count",
          detail: events.length
            ? list(events.map((e) => e.text))
            : `${node} kept ${vip} over [${ms(f.atMs)}, ${ms(untilMs)})`,
        };
      },
      { expected, unit: "count" },
    );
}
