/**
 * Checkers on keepalived's own account of its VRRP state (its log, as the VRRP observer read it).
 */
import type { VrrpState } from "../history/ops.ts";
import { ms } from "./format.ts";
import { type FaultAnchor, type FaultRef, resolveFault } from "./faults.ts";
import { vrrpOps } from "./select.ts";
import { type Checker, runCheck } from "./types.ts";

export interface ReachesStateOptions {
  node: string;
  instance: string;
  to: VrrpState;
  /** Measured from this fault (default: from the start of the history). */
  after?: FaultRef;
  anchor?: FaultAnchor;
  name?: string;
}

/** keepalived on `node` entered state `to` for `instance` (after the fault). measured = ms from the anchor, or the time. */
export function reachesState(options: ReachesStateOptions): Checker {
  const name = options.name ?? `${options.node}-${options.instance}-reaches-${options.to}`;
  const expected = `keepalived on ${options.node} enters ${options.to} for ${options.instance}${options.after ? " after the fault" : ""}`;
  return (ops) =>
    runCheck(
      name,
      () => {
        const from = options.after ? resolveFault(ops, options.after, options.anchor).atMs : 0;
        const hit = vrrpOps(ops).find((o) => o.node === options.node && o.instance === options.instance && o.to === options.to && o.atMs >= from);
        if (!hit) return { verdict: "fail", measured: null, unit: "ms", expected, detail: `no ${options.to} transition of ${options.instance} on ${options.node}` };
        return { verdict: "pass", measured: hit.atMs - from, unit: "ms", expected, detail: `at ${ms(hit.atMs)}: ${hit.line}` };
      },
      { expected, unit: "ms" },
    );
}
