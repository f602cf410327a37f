/**
 * The op log of one run. Writers append as things happen; ops can arrive slightly out of time
 * order (a request is written when it ends, an in-node stamp arrives after a stream delay), so
 * `ops()` returns them sorted by time and numbered.
 */
import type { Clock } from "./clock.ts";
import type { NewOp, Op } from "./ops.ts";

export class History {
  readonly clock: Clock;
  private readonly pending: NewOp[] = [];
  private readonly listeners = new Set<(op: NewOp) => void>();

  constructor(clock: Clock) {
    this.clock = clock;
  }

  append(op: NewOp): void {
    this.pending.push(op);
    for (const l of this.listeners) l(op);
  }

  /** Called for every op as it is appended (live views). Returns an unsubscribe function. */
  subscribe(listener: (op: NewOp) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** All ops so far, in time order, numbered. */
  ops(): Op[] {
    return sortAndNumber(this.pending);
  }

  get size(): number {
    return this.pending.length;
  }
}

/** Sort by time (stable: equal times keep arrival order) and assign indices. */
export function sortAndNumber(ops: readonly NewOp[]): Op[] {
  return ops
    .map((op, arrival) => ({ op, arrival }))
    .sort((a, b) => a.op.atMs - b.op.atMs || a.arrival - b.arrival)
    .map(({ op }, index) => ({ ...op, index }) as Op);
}

/** JSON lines, one op per line, for the run store. */
export function toJsonLines(ops: readonly Op[]): string {
  return ops.map((op) => JSON.stringify(op)).join("\n") + (ops.length ? "\n" : "");
}
