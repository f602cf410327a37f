/**
 * Picking ops out of a finished history. Checkers never trust the order they are given: these
 * helpers return copies sorted by time (stable, so equal times keep the history's order).
 */
import type { FaultOp, Op, RequestOp, VipOp, VrrpOp } from "../history/ops.ts";

export function byTime<T extends { atMs: number }>(ops: readonly T[]): T[] {
  return ops
    .map((op, i) => ({ op, i }))
    .sort((a, b) => a.op.atMs - b.op.atMs || a.i - b.i)
    .map(({ op }) => op);
}

export function vipOps(ops: readonly Op[], vip?: string): VipOp[] {
  return byTime(ops.filter((op): op is VipOp => op.f === "vip" && (vip === undefined || op.vip === vip)));
}

export function vrrpOps(ops: readonly Op[]): VrrpOp[] {
  return byTime(ops.filter((op): op is VrrpOp => op.f === "vrrp"));
}

export function faultOps(ops: readonly Op[]): FaultOp[] {
  return byTime(ops.filter((op): op is FaultOp => op.f === "fault"));
}

/** Requests of one stream (all streams when `stream` is undefined), by start time. */
export function requestOps(ops: readonly Op[], stream?: string): RequestOp[] {
  return byTime(ops.filter((op): op is RequestOp => op.f === "request" && (stream === undefined || op.stream === stream)));
}

/** The VIPs the history mentions, sorted. */
export function vipsIn(ops: readonly Op[]): string[] {
  return [...new Set(vipOps(ops).map((op) => op.vip))].sort();
}

/** The request streams the history mentions, sorted. */
export function streamsIn(ops: readonly Op[]): string[] {
  return [...new Set(requestOps(ops).map((op) => op.stream))].sort();
}

/**
 * The last moment the history knows about: the latest `atMs`, or a request's `endMs` when that is
 * later. State that is still open (a VIP still held) is taken to last until here. 0 for an empty history.
 */
export function historyEndMs(ops: readonly Op[]): number {
  let end = 0;
  for (const op of ops) {
    end = Math.max(end, op.atMs);
    if (op.f === "request") end = Math.max(end, op.endMs);
  }
  return end;
}
