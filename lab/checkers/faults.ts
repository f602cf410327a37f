/**
 * Finding the fault a checker measures from. A scenario names it by `faultId` (exact) or by
 * `kind` + `node` (+ `occurrence` when the same fault is injected more than once).
 *
 * Whatever the anchor, a fault that did not happen cannot be measured from: a completion of type
 * `fail` (the nemesis could not do it) or `info` (nothing to do, or outcome unknown) makes the
 * checker inconclusive. A fault with no completion at all (the run ended mid-fault) can still be
 * measured from its `invoke`.
 */
import type { FaultKind, FaultOp, Op } from "../history/ops.ts";
import { ms } from "./format.ts";
import { faultOps } from "./select.ts";
import { Inconclusive } from "./types.ts";

export type FaultRef =
  | { faultId: number }
  | {
      kind: FaultKind;
      node: string;
      /** 1-based, in time order; required when the history has more than one such fault. */
      occurrence?: number;
    };

/**
 * `invoke`: when the nemesis started the fault; `ok`: when it reported it done; `effect`: when it took
 * effect inside the node (the `ok`'s effectAtMs, else the `ok`) — where the protocol's clock starts.
 */
export type FaultAnchor = "invoke" | "ok" | "effect";

export interface ResolvedFault {
  invoke: FaultOp;
  /** The op that completed it (`ok`, `info` or `fail`), if any. */
  completion: FaultOp | undefined;
  /** The anchor's time. */
  atMs: number;
}

export function describeFaultRef(ref: FaultRef): string {
  if ("faultId" in ref) return `fault #${ref.faultId}`;
  return `${ref.kind} ${ref.node}${ref.occurrence !== undefined ? ` (occurrence ${ref.occurrence})` : ""}`;
}

/** Resolves a fault and its anchor, or throws `Inconclusive` saying why it cannot be measured from. */
export function resolveFault(ops: readonly Op[], ref: FaultRef, anchor: FaultAnchor = "invoke"): ResolvedFault {
  const faults = faultOps(ops);
  const invokes = faults.filter((op) => op.type === "invoke");
  let invoke: FaultOp | undefined;
  if ("faultId" in ref) {
    invoke = invokes.find((op) => op.faultId === ref.faultId);
  } else {
    const matching = invokes.filter((op) => op.kind === ref.kind && op.node === ref.node);
    if (ref.occurrence !== undefined) {
      invoke = matching[ref.occurrence - 1];
    } else if (matching.length > 1) {
      throw new Inconclusive(
        `${describeFaultRef(ref)} is ambiguous: the history has ${matching.length} of them ` +
          `(fault ids ${matching.map((op) => op.faultId).join(", ")}); name one by faultId or occurrence`,
      );
    } else {
      invoke = matching[0];
    }
  }
  if (invoke === undefined) {
    const seen = invokes.map((op) => `#${op.faultId} ${op.kind} ${op.node}`);
    throw new Inconclusive(
      `${describeFaultRef(ref)} is not in the history; faults in the history: ${seen.length ? seen.join(", ") : "none"}`,
    );
  }
  const inv = invoke;
  const completion = faults.find((op) => op.faultId === inv.faultId && op.type !== "invoke" && op.atMs >= inv.atMs);
  if (completion?.type === "fail" || completion?.type === "info") {
    throw new Inconclusive(
      `${describeFaultRef(ref)} (#${inv.faultId} ${inv.kind} ${inv.node}) ended with "${completion.type}"` +
        `${completion.detail ? `: ${completion.detail}` : ""}; there is nothing to measure from`,
    );
  }
  if (anchor === "ok" || anchor === "effect") {
    if (completion === undefined) {
      throw new Inconclusive(
        `${describeFaultRef(ref)} (#${inv.faultId}) never completed, so there is no "${anchor}" to anchor on; anchor on "invoke"`,
      );
    }
    return { invoke: inv, completion, atMs: anchor === "effect" ? (completion.effectAtMs ?? completion.atMs) : completion.atMs };
  }
  return { invoke: inv, completion, atMs: inv.atMs };
}

/** "#3 power-off lb1 (invoke at 1200.0 ms)", for details. */
export function describeResolved(f: ResolvedFault, anchor: FaultAnchor): string {
  return `#${f.invoke.faultId} ${f.invoke.kind} ${f.invoke.node} (${anchor} at ${ms(f.atMs)})`;
}
