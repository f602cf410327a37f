/**
 * Checkers over who holds a VIP: exactly one owner, a given owner, split brain, flapping.
 * All of them read the owner timeline of `ownership.ts`; windows are half-open, [fromMs, toMs).
 */
import type { Op } from "../history/ops.ts";
import { list, ms, sum } from "./format.ts";
import {
  type ClosedSegment,
  clipTimeline,
  closedTimeline,
  formatOwners,
  holderChanges,
  type HolderChange,
  ownersAt,
  ownerTimeline,
} from "./ownership.ts";
import { historyEndMs } from "./select.ts";
import { type Checker, Inconclusive, runCheck } from "./types.ts";

// ---------------------------------------------------------------------------------------------
// exactly one owner

export type OwnerWindow = "throughout" | "end" | { fromMs: number; toMs: number };

export interface ExactlyOneOwnerOptions {
  vip: string;
  /**
   * `throughout`: from the VIP's first acquisition to the end of the history;
   * `end`: the owners when the history ends; `{fromMs, toMs}`: that window (time before the VIP's
   * first op counts as no owner; the window is cut at the end of the history).
   */
  window: OwnerWindow;
  /** A run of time with 0 or ≥ 2 owners fails only when longer than this (not with `end`). Default 0. */
  graceMs?: number;
  name?: string;
}

/** A maximal run of time with other than exactly one owner. */
export interface OwnerFault {
  fromMs: number;
  toMs: number;
  /** The owner sets seen during the run, e.g. ["none", "lb1+lb2"]. */
  owners: string[];
}

/** Runs of time with 0 or ≥ 2 owners; adjacent steps (a gap, then two owners) form one run. */
export function ownerFaults(segments: readonly ClosedSegment[]): OwnerFault[] {
  const runs: OwnerFault[] = [];
  for (const s of segments) {
    if (s.owners.length === 1) continue;
    const last = runs.at(-1);
    const label = formatOwners(s.owners);
    if (last && last.toMs === s.fromMs) {
      last.toMs = s.toMs;
      if (!last.owners.includes(label)) last.owners.push(label);
    } else {
      runs.push({ fromMs: s.fromMs, toMs: s.toMs, owners: [label] });
    }
  }
  return runs;
}

export function exactlyOneOwner(options: ExactlyOneOwnerOptions): Checker {
  const { vip, window } = options;
  const graceMs = options.graceMs ?? 0;
  const windowName = typeof window === "string" ? window : `${window.fromMs}–${window.toMs} ms`;
  const name = options.name ?? `exactly-one-owner(${vip}, ${windowName})`;
  if (window === "end") {
    const expected = `exactly one node holds ${vip} when the history ends`;
    return (ops) =>
      runCheck(
        name,
        () => {
          const timeline = ownerTimeline(ops, vip);
          const owners = timeline.at(-1)?.owners ?? [];
          return {
            verdict: owners.length === 1 ? "pass" : "fail",
            measured: formatOwners(owners),
            expected,
            unit: "node",
            detail: timeline.length === 0 ? `the history has no op for ${vip}` : `owners at the end: ${formatOwners(owners)}`,
          };
        },
        { expected, unit: "node" },
      );
  }
  const span = window === "throughout" ? "from its first acquisition to the end of the history" : `over [${window.fromMs}, ${window.toMs}) ms`;
  const expected = `exactly one node holds ${vip} ${span}` + (graceMs > 0 ? `; runs of ≤ ${graceMs} ms with 0 or ≥ 2 owners tolerated` : "");
  return (ops) =>
    runCheck(
      name,
      () => {
        const end = historyEndMs(ops);
        const timeline = ownerTimeline(ops, vip);
        let from: number;
        let to: number;
        if (window === "throughout") {
          const first = timeline.find((s) => s.owners.length > 0);
          if (first === undefined) {
            return { verdict: "fail", measured: null, expected, unit: "ms", detail: `${vip} was never acquired by any node` };
          }
          from = first.fromMs;
          to = end;
        } else {
          if (!(window.toMs > window.fromMs)) {
            throw new Inconclusive(`the window must end after it starts, got [${window.fromMs}, ${window.toMs})`);
          }
          if (window.fromMs >= end) {
            throw new Inconclusive(`the window [${window.fromMs}, ${window.toMs}) starts after the history ends (${ms(end)})`);
          }
          from = window.fromMs;
          to = Math.min(window.toMs, end);
        }
        const faults = ownerFaults(clipTimeline(timeline, from, to));
        const total = sum(faults.map((f) => f.toMs - f.fromMs));
        const over = faults.filter((f) => f.toMs - f.fromMs > graceMs);
        return {
          verdict: over.length === 0 ? "pass" : "fail",
          measured: total,
          expected,
          unit: "ms",
          detail:
            faults.length === 0
              ? `one owner over [${ms(from)}, ${ms(to)})`
              : `${faults.length} run${faults.length === 1 ? "" : "s"} without exactly one owner` +
                `${graceMs > 0 ? ` (${over.length} longer than ${graceMs} ms)` : ""}: ` +
                list(faults.map((f) => `[${ms(f.fromMs)}, ${ms(f.toMs)}) ${f.owners.join(" then ")}`)),
        };
      },
      { expected, unit: "ms" },
    );
}

// ---------------------------------------------------------------------------------------------
// owner is

export interface OwnerIsOptions {
  vip: string;
  node: string;
  /** `end`, or a time in ms (the state after every event stamped at or before it). */
  at: "end" | number;
  name?: string;
}

/** `node` is the VIP's only owner at `at` (another owner beside it is a fail: that is split brain). */
export function ownerIs(options: OwnerIsOptions): Checker {
  const { vip, node, at } = options;
  const when = at === "end" ? "when the history ends" : `at ${at} ms`;
  const name = options.name ?? `owner-is(${vip}, ${node}, ${at === "end" ? "end" : `${at} ms`})`;
  const expected = `${node} alone holds ${vip} ${when}`;
  return (ops) =>
    runCheck(
      name,
      () => {
        const timeline = ownerTimeline(ops, vip);
        let owners: string[];
        if (at === "end") {
          owners = timeline.at(-1)?.owners ?? [];
        } else {
          const end = historyEndMs(ops);
          if (at > end) throw new Inconclusive(`${at} ms is after the history ends (${ms(end)})`);
          owners = ownersAt(timeline, at);
        }
        const pass = owners.length === 1 && owners[0] === node;
        return {
          verdict: pass ? "pass" : "fail",
          measured: formatOwners(owners),
          expected,
          unit: "node",
          detail: `owners of ${vip} ${when}: ${formatOwners(owners)}`,
        };
      },
      { expected, unit: "node" },
    );
}

// ---------------------------------------------------------------------------------------------
// split brain

export interface SplitBrainSpan {
  vip: string;
  fromMs: number;
  /** `null`: still split when the history ends. */
  toMs: number | null;
  /** Every node that held the VIP during the span, sorted. */
  nodes: string[];
}

/** Maximal spans during which two or more nodes held the VIP at once. */
export function splitBrainSpans(ops: readonly Op[], vip: string): SplitBrainSpan[] {
  const spans: SplitBrainSpan[] = [];
  for (const s of ownerTimeline(ops, vip)) {
    if (s.owners.length < 2) continue;
    const last = spans.at(-1);
    if (last && last.toMs === s.fromMs) {
      last.toMs = s.toMs;
      last.nodes = [...new Set([...last.nodes, ...s.owners])].sort();
    } else {
      spans.push({ vip, fromMs: s.fromMs, toMs: s.toMs, nodes: [...s.owners] });
    }
  }
  return spans;
}

export interface SplitBrainOptions {
  vip: string;
  /** `false`: no split brain allowed (the usual case); `true`: the scenario provokes one and must see it. */
  expected: boolean;
  /** Only spans that overlap [fromMs, toMs), clipped to it (e.g. from the steady state on). */
  fromMs?: number;
  toMs?: number;
  name?: string;
}

/** measured = total ms during which ≥ 2 nodes held the VIP (an open span counts to the end of the history). */
export function splitBrain(options: SplitBrainOptions): Checker {
  const { vip } = options;
  const name = options.name ?? `split-brain(${vip})`;
  const from = options.fromMs ?? -Infinity;
  const to = options.toMs ?? Infinity;
  const within = options.fromMs !== undefined || options.toMs !== undefined ? ` in [${options.fromMs ?? "start"}, ${options.toMs ?? "end"}) ms` : "";
  const expected = options.expected
    ? `at least one span with ≥ 2 nodes holding ${vip}${within}`
    : `never ≥ 2 nodes holding ${vip} at once${within}`;
  return (ops) =>
    runCheck(
      name,
      () => {
        const end = Math.min(historyEndMs(ops), to);
        const spans = splitBrainSpans(ops, vip)
          .filter((s) => (s.toMs ?? Infinity) > from && s.fromMs < to)
          .map((s) => ({ ...s, fromMs: Math.max(s.fromMs, from), toMs: s.toMs === null ? (Number.isFinite(to) ? to : null) : Math.min(s.toMs, to) }));
        const total = sum(spans.map((s) => (s.toMs ?? Math.max(end, s.fromMs)) - s.fromMs));
        const seen = spans.length > 0;
        return {
          verdict: seen === options.expected ? "pass" : "fail",
          measured: total,
          expected,
          unit: "ms",
          detail: seen
            ? `${spans.length} span${spans.length === 1 ? "" : "s"}: ` +
              list(spans.map((s) => `[${ms(s.fromMs)}, ${s.toMs === null ? "end" : ms(s.toMs)}) ${s.nodes.join("+")}`))
            : `${vip} never had two owners`,
        };
      },
      { expected, unit: "ms" },
    );
}

// ---------------------------------------------------------------------------------------------
// flapping

export interface VipMovesOptions {
  vip: string;
  /** Default: the start of the history. */
  fromMs?: number;
  /** Default: the end of the history. */
  toMs?: number;
  /** Most moves allowed in the window. Default 1 (one failover, no flapping). */
  max?: number;
  name?: string;
}

/** Holder changes (see `holderChanges`) within [fromMs, toMs), not counting the first acquisition. */
export function vipMoveList(ops: readonly Op[], vip: string, fromMs = -Infinity, toMs = Infinity): HolderChange[] {
  return holderChanges(ops, vip).filter((c) => c.from !== null && c.atMs >= fromMs && c.atMs < toMs);
}

/** measured = number of times the VIP changed holder in the window. */
export function vipMoves(options: VipMovesOptions): Checker {
  const { vip, fromMs, toMs } = options;
  const max = options.max ?? 1;
  const range = `[${fromMs ?? "start"}, ${toMs ?? "end"})`;
  const name = options.name ?? `vip-moves(${vip}, ${range})`;
  const expected = `${vip} changes holder at most ${max} time${max === 1 ? "" : "s"} in ${range}${fromMs === undefined && toMs === undefined ? "" : " ms"}`;
  return (ops) =>
    runCheck(
      name,
      () => {
        if (fromMs !== undefined && toMs !== undefined && !(toMs > fromMs)) {
          throw new Inconclusive(`the window must end after it starts, got [${fromMs}, ${toMs})`);
        }
        const moves = vipMoveList(ops, vip, fromMs, toMs);
        return {
          verdict: moves.length <= max ? "pass" : "fail",
          measured: moves.length,
          expected,
          unit: "count",
          detail: moves.length
            ? list(moves.map((m) => `${m.from} → ${m.to} at ${ms(m.atMs)}`))
            : `${vip} did not change holder in the window`,
        };
      },
      { expected, unit: "count" },
    );
}
