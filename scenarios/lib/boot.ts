/** Facts scenarios read from the history about a node coming back. */
import type { Op } from "../../lab/history/ops.ts";

/** ms from `afterMs` until the node's keepalived logged its first state (it started), or undefined. */
export function keepalivedStartAfter(ops: readonly Op[], node: string, afterMs: number): number | undefined {
  const first = ops.find((o) => o.f === "vrrp" && o.node === node && o.atMs >= afterMs && o.from !== o.to);
  return first ? first.atMs - afterMs : undefined;
}
