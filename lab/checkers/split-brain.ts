/**
 * Checkers for split brain and what keepalived believes: how long two nodes held a VIP after a heal,
 * which nodes held a VIP without being members (intruders), and each node's VRRP state at a moment,
 * explained from its own log.
 */
import type { LogOp, Op, VrrpOp } from "../history/ops.ts";
import type { ExpectedWindow } from "../protocol/vrrp-timing.ts";
import { type FaultAnchor, type FaultRef, describeResolved, resolveFault } from "./faults.ts";
import { ms } from "./format.ts";
import { describeWindow } from "./migration.ts";
import { ownershipIntervals, ownerTimeline } from "./ownership.ts";
import { type Checker, Inconclusive, runCheck } from "./types.ts";

export interface ResolutionOptions {
  vip: string;
  /** The fault that heals (unblock-vrrp, heal-partition, restore-auth, …). */
  heal: FaultRef;
  anchor?: FaultAnchor;
  expected: ExpectedWindow;
  name?: string;
}

/**
 * measured = ms from the heal's anchor until the VIP has exactly one owner again. unknown when there
 * was no split brain at the heal (nothing to resolve); fail with null when it never resolves.
 */
export function splitBrainResolution(options: ResolutionOptions): Checker {
  const anchor = options.anchor ?? "effect";
  const expected = describeWindow(options.expected, anchor, "heal");
  return (ops) =>
    runCheck(
      options.name ?? `split-brain-resolution(${options.vip})`,
      () => {
        const heal = resolveFault(ops, options.heal, anchor);
        const segments = ownerTimeline(ops, options.vip);
        const at = segments.find((s) => s.fromMs <= heal.atMs && heal.atMs < (s.toMs ?? Infinity));
        if (!at || at.owners.length < 2) throw new Inconclusive(`no split brain at the heal (${describeResolved(heal, anchor)}): owners ${at?.owners.join("+") || "none"}`);
        const resolved = segments.find((s) => s.fromMs >= heal.atMs && s.owners.length === 1);
        if (!resolved) return { verdict: "fail", measured: null, unit: "ms", expected, detail: `still ${at.owners.join("+")} at the end` };
        const measured = resolved.fromMs - heal.atMs;
        const pass = measured >= options.expected.minMs && measured <= options.expected.maxMs;
        return { verdict: pass ? "pass" : "fail", measured, unit: "ms", expected, detail: `${at.owners.join("+")} → ${resolved.owners[0]} at ${ms(resolved.fromMs)}` };
      },
      { expected, unit: "ms" },
    );
}

export interface IntrudersOptions {
  vip: string;
  /** The nodes allowed to hold the VIP (the instance's members). */
  members: string[];
  /** The intruders expected (empty: none). */
  expected: string[];
  name?: string;
}

/** Nodes that held the VIP without being members of its instance. measured = their names. */
export function intruders(options: IntrudersOptions): Checker {
  const expectedText = options.expected.length ? `the VIP is taken by ${options.expected.join(", ")}, not a member (${options.members.join(", ")})` : `only members (${options.members.join(", ")}) hold the VIP`;
  return (ops) =>
    runCheck(
      options.name ?? `intruders(${options.vip})`,
      () => {
        const holders = ownershipIntervals(ops, options.vip);
        const found = [...new Set(holders.map((h) => h.node).filter((n) => !options.members.includes(n)))].sort();
        const pass = found.join(",") === [...options.expected].sort().join(",");
        const detail = holders
          .filter((h) => found.includes(h.node))
          .map((h) => `${h.node} held it from ${ms(h.fromMs)} to ${h.toMs === null ? "the end" : ms(h.toMs)}`)
          .join("; ");
        return { verdict: pass ? "pass" : "fail", measured: found.join(", ") || "none", unit: "node", expected: expectedText, ...(detail ? { detail } : {}) };
      },
      { expected: expectedText, unit: "node" },
    );
}

export interface BeliefsOptions {
  instance: string;
  /** The moment to read the states at (ms). */
  atMs: number;
  /** The state each node should be in. */
  expected: Record<string, string>;
  name?: string;
}

/**
 * Each node's VRRP state for an instance at a moment, with why, from its own log: what it heard last
 * ("received lower priority (90) advert from … - discarding", "send advert error", "invalid passwd", …).
 * measured = "lb1=MASTER, lb2=MASTER".
 */
export function beliefs(options: BeliefsOptions): Checker {
  const expectedText = Object.entries(options.expected).map(([n, s]) => `${n}=${s}`).join(", ");
  return (ops) =>
    runCheck(
      options.name ?? `beliefs(${options.instance})`,
      () => {
        const before = ops.filter((o) => o.atMs <= options.atMs);
        const states = Object.keys(options.expected).map((node) => {
          const last = [...before].reverse().find((o): o is VrrpOp => o.f === "vrrp" && o.node === node && o.instance === options.instance);
          return [node, last?.to ?? "INIT"] as const;
        });
        const measured = states.map(([n, s]) => `${n}=${s}`).join(", ");
        const why = states.map(([node]) => `${node}: ${explain(before, node)}`).join(" | ");
        return { verdict: measured === expectedText ? "pass" : "fail", measured, expected: expectedText, detail: why };
      },
      { expected: expectedText },
    );
}

function explain(ops: readonly Op[], node: string): string {
  const lines = ops.filter((o): o is LogOp => o.f === "log" && o.node === node).map((o) => o.line);
  const last = lines.at(-1);
  return last ? `last said "${last}"` : "said nothing notable";
}

export interface LogQuoteOptions {
  node: string;
  /** What the line must contain (a RegExp source, case-insensitive). */
  pattern: string;
  fromMs?: number;
  name?: string;
}

/** keepalived said something (e.g. its complaint about a password): measured = the line, quoted. */
export function logQuote(options: LogQuoteOptions): Checker {
  const re = new RegExp(options.pattern, "i");
  const expected = `${options.node}'s keepalived logs a line matching /${options.pattern}/`;
  return (ops) =>
    runCheck(
      options.name ?? `log(${options.node}, ${options.pattern})`,
      () => {
        const hit = ops.find((o): o is LogOp => o.f === "log" && o.node === options.node && o.atMs >= (options.fromMs ?? -Infinity) && re.test(o.line));
        return hit ? { verdict: "pass", measured: hit.line, expected, detail: `at ${ms(hit.atMs)}` } : { verdict: "fail", measured: null, expected };
      },
      { expected },
    );
}
