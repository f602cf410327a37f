/**
 * Who held a VIP, when: the VIP observers' `acquired` / `released` ops replayed into ownership
 * intervals per node, and the owner set over time as a step function.
 *
 * The replay is forgiving where the observers are, by design, repetitive or partial:
 *   - `acquired` for a node that already holds the VIP changes nothing (a `snapshot` after the watch
 *     re-attached re-reports what is still there);
 *   - `released` closes the node's interval whatever its source (`monitor`, or `node-down` when the
 *     node lost power and its interface with it);
 *   - `released` for a node that does not hold the VIP is ignored (the observer started after the
 *     address was gone, or re-reported a release).
 * Before a VIP's first op nothing is known; checkers treat that time as "no owner observed".
 */
import type { Op, VipOp } from "../history/ops.ts";
import { historyEndMs, vipOps } from "./select.ts";

export interface OwnershipInterval {
  node: string;
  vip: string;
  fromMs: number;
  /** `null`: still held when the history ends. */
  toMs: number | null;
}

/** One step of the owner set: `owners` (sorted) held the VIP over [fromMs, toMs). */
export interface OwnerSegment {
  fromMs: number;
  /** `null`: the last step, lasting to the end of the history. */
  toMs: number | null;
  owners: string[];
}

/** Ownership intervals of one VIP (or of every VIP), sorted by start, then node. */
export function ownershipIntervals(ops: readonly Op[], vip?: string): OwnershipInterval[] {
  const byVip = groupByVip(vipOps(ops, vip));
  const out: OwnershipInterval[] = [];
  for (const [v, events] of byVip) out.push(...replay(v, events).intervals);
  return out.sort((a, b) => a.fromMs - b.fromMs || cmp(a.node, b.node) || cmp(a.vip, b.vip));
}

/**
 * The owner set of one VIP as a step function, from its first op to the end of the history.
 * Events with the same `atMs` are applied together (a release on one node and an acquisition on
 * another in the same millisecond leave no gap), and consecutive steps always differ.
 */
export function ownerTimeline(ops: readonly Op[], vip: string): OwnerSegment[] {
  return replay(vip, vipOps(ops, vip)).timeline;
}

/**
 * The owners of a VIP at `atMs`: the step containing it, i.e. the state after every event stamped
 * at or before `atMs`. Empty before the VIP's first op.
 */
export function ownersAt(timeline: readonly OwnerSegment[], atMs: number): string[] {
  for (const s of timeline) {
    if (s.fromMs <= atMs && (s.toMs === null || atMs < s.toMs)) return [...s.owners];
  }
  return [];
}

/** The owners just before `atMs`: the state after every event stamped strictly before it. */
export function ownersBefore(timeline: readonly OwnerSegment[], atMs: number): string[] {
  for (const s of timeline) {
    if (s.fromMs < atMs && (s.toMs === null || atMs <= s.toMs)) return [...s.owners];
  }
  return [];
}

/**
 * The timeline restricted to [fromMs, toMs), with closed ends; time inside the window before the
 * VIP's first op appears as a step with no owners.
 */
export function clipTimeline(timeline: readonly OwnerSegment[], fromMs: number, toMs: number): ClosedSegment[] {
  const out: ClosedSegment[] = [];
  if (toMs <= fromMs) return out;
  const first = timeline[0];
  if (first === undefined || first.fromMs > fromMs) {
    const end = Math.min(toMs, first?.fromMs ?? toMs);
    out.push({ fromMs, toMs: end, owners: [] });
  }
  for (const s of timeline) {
    const a = Math.max(s.fromMs, fromMs);
    const b = Math.min(s.toMs ?? Infinity, toMs);
    if (b > a) out.push({ fromMs: a, toMs: b, owners: [...s.owners] });
  }
  return out;
}

export interface ClosedSegment {
  fromMs: number;
  toMs: number;
  owners: string[];
}

/** The timeline with the open last step closed at the end of the history. */
export function closedTimeline(ops: readonly Op[], vip: string): ClosedSegment[] {
  const timeline = ownerTimeline(ops, vip);
  const first = timeline[0];
  if (first === undefined) return [];
  return clipTimeline(timeline, first.fromMs, Math.max(historyEndMs(ops), first.fromMs));
}

/**
 * A change of the VIP's holder. The holder is the node that most recently acquired the VIP among
 * those still holding it; while nobody holds it, the holder stays the last one (a gap is not a move).
 * So lb1 → gap → lb2 is one change, an overlapping hand-over (lb2 acquires, then lb1 releases) is
 * one, a blip on lb1 (release, re-acquire) is none, and lb2 grabbing the VIP from a frozen lb1 and
 * giving it back on thaw is two. The first acquisition has `from: null`.
 */
export interface HolderChange {
  vip: string;
  atMs: number;
  from: string | null;
  to: string;
}

export function holderChanges(ops: readonly Op[], vip: string): HolderChange[] {
  return replay(vip, vipOps(ops, vip)).holderChanges;
}

interface Replay {
  intervals: OwnershipInterval[];
  timeline: OwnerSegment[];
  holderChanges: HolderChange[];
}

function replay(vip: string, events: readonly VipOp[]): Replay {
  const intervals: OwnershipInterval[] = [];
  const timeline: OwnerSegment[] = [];
  const changes: HolderChange[] = [];
  /** node → when it acquired; Map order is acquisition order, so the last key is the newest. */
  const held = new Map<string, number>();
  let holder: string | null = null;
  let i = 0;
  while (i < events.length) {
    const t = events[i]!.atMs;
    for (; i < events.length && events[i]!.atMs === t; i++) {
      const e = events[i]!;
      if (e.event === "acquired") {
        if (held.has(e.node)) continue;
        held.set(e.node, e.atMs);
      } else {
        const from = held.get(e.node);
        if (from === undefined) continue;
        held.delete(e.node);
        intervals.push({ node: e.node, vip, fromMs: from, toMs: e.atMs });
      }
    }
    const newest = [...held.keys()].at(-1);
    if (newest !== undefined && newest !== holder) {
      changes.push({ vip, atMs: t, from: holder, to: newest });
      holder = newest;
    }
    const owners = [...held.keys()].sort(cmp);
    const last = timeline.at(-1);
    if (last === undefined) {
      timeline.push({ fromMs: t, toMs: null, owners });
    } else if (!sameSet(last.owners, owners)) {
      last.toMs = t;
      timeline.push({ fromMs: t, toMs: null, owners });
    }
  }
  for (const [node, from] of held) intervals.push({ node, vip, fromMs: from, toMs: null });
  return { intervals, timeline, holderChanges: changes };
}

function groupByVip(events: readonly VipOp[]): Map<string, VipOp[]> {
  const m = new Map<string, VipOp[]>();
  for (const e of events) {
    const list = m.get(e.vip);
    if (list) list.push(e);
    else m.set(e.vip, [e]);
  }
  return m;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** "lb1", "lb1+lb2", or "none": how checkers print an owner set. */
export function formatOwners(owners: readonly string[]): string {
  return owners.length ? owners.join("+") : "none";
}
