/**
 * Shorthands for writing literal histories in unit tests. Each returns one op as a writer would
 * append it; `history(...)` numbers them the way `History.ops()` does.
 */
import { sortAndNumber } from "../history/history.ts";
import type { FaultOp, NewOp, Op, RequestOp, RequestOutcome, VipOp } from "../history/ops.ts";

export const VIP = "10.213.0.100";

export function history(...ops: NewOp[]): Op[] {
  return sortAndNumber(ops);
}

export function acquired(atMs: number, node: string, source: VipOp["source"] = "monitor", vip = VIP): NewOp {
  return { atMs, process: "observer", f: "vip", node, vip, event: "acquired", source };
}

export function released(atMs: number, node: string, source: VipOp["source"] = "monitor", vip = VIP): NewOp {
  return { atMs, process: "observer", f: "vip", node, vip, event: "released", source };
}

export function fault(
  atMs: number,
  faultId: number,
  type: FaultOp["type"],
  kind: FaultOp["kind"],
  node: string,
  detail?: string,
): NewOp {
  return { atMs, process: "nemesis", f: "fault", type, kind, node, faultId, ...(detail ? { detail } : {}) };
}

/** A fault's invoke and ok, `durationMs` apart. */
export function faultPair(atMs: number, faultId: number, kind: FaultOp["kind"], node: string, durationMs = 10): NewOp[] {
  return [fault(atMs, faultId, "invoke", kind, node), fault(atMs + durationMs, faultId, "ok", kind, node)];
}

export function request(
  atMs: number,
  endMs: number,
  outcome: RequestOutcome,
  extra: Partial<Pick<RequestOp, "lb" | "backend" | "status" | "stream" | "error">> = {},
): NewOp {
  return {
    atMs,
    endMs,
    process: "client",
    f: "request",
    stream: extra.stream ?? "main",
    target: `http://${VIP}/`,
    outcome,
    ...(extra.lb !== undefined ? { lb: extra.lb } : {}),
    ...(extra.backend !== undefined ? { backend: extra.backend } : {}),
    ...(extra.status !== undefined ? { status: extra.status } : {}),
    ...(extra.error !== undefined ? { error: extra.error } : {}),
  };
}

export function vrrp(atMs: number, node: string, from: "INIT" | "BACKUP" | "MASTER" | "FAULT" | "STOP", to: typeof from, instance = "VI_1"): NewOp {
  return { atMs, process: "observer", f: "vrrp", node, instance, from, to, line: `(${instance}) Entering ${to} STATE` };
}

export function note(atMs: number, label: string): NewOp {
  return { atMs, process: "scenario", f: "note", label };
}
