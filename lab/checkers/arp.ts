/**
 * The client's ARP view against VIP ownership: how often the client's entry for a VIP changed node
 * (flapping during split brain), and how long it pointed at a node that no longer held the VIP while
 * another did (stale ARP after a failover — the clients keep knocking on the old door).
 */
import type { ArpOp, LogOp, Op } from "../history/ops.ts";
import { ms } from "./format.ts";
import { closedTimeline } from "./ownership.ts";
import { historyEndMs } from "./select.ts";
import { type Checker, Inconclusive, runCheck } from "./types.ts";

function arpOps(ops: readonly Op[], vip: string): ArpOp[] {
  return ops.filter((o): o is ArpOp => o.f === "arp" && o.vip === vip);
}

function unavailable(ops: readonly Op[]): string | undefined {
  return ops.find((o): o is LogOp => o.f === "log" && o.node === "client" && o.line.startsWith("client ARP view unavailable"))?.line;
}

export interface StaleSpan {
  fromMs: number;
  toMs: number;
  /** The node the client pointed at. */
  pointedAt: string | null;
  /** Who held the VIP meanwhile. */
  holders: string[];
}

/** Spans in which the client's ARP entry names a node that does not hold the VIP while another node does. */
export function staleArpSpans(ops: readonly Op[], vip: string): StaleSpan[] {
  const arp = arpOps(ops, vip);
  const owners = closedTimeline(ops, vip);
  const end = historyEndMs(ops);
  // Cut the time axis at every ARP change and every ownership change.
  const cuts = [...new Set([...arp.map((a) => a.atMs), ...owners.flatMap((s) => [s.fromMs, s.toMs]), end])].sort((a, b) => a - b);
  const spans: StaleSpan[] = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const from = cuts[i]!;
    const to = cuts[i + 1]!;
    const entry = [...arp].reverse().find((a) => a.atMs <= from);
    if (!entry || entry.node === null) continue;
    const holders = owners.find((s) => s.fromMs <= from && from < s.toMs)?.owners ?? [];
    if (holders.length === 0 || holders.includes(entry.node)) continue;
    const last = spans.at(-1);
    if (last && last.toMs === from && last.pointedAt === entry.node) last.toMs = to;
    else spans.push({ fromMs: from, toMs: to, pointedAt: entry.node, holders });
  }
  return spans;
}

export interface StaleArpOptions {
  vip: string;
  /** The longest tolerated span (e.g. the observation slack: the new owner's gratuitous ARPs should repoint clients at once). */
  maxMs: number;
  fromMs?: number;
  /** How the bound was derived, for the report. */
  expectedText?: string;
  name?: string;
}

/** measured = total ms the client pointed at a node without the VIP while another held it; fail when a span is longer than maxMs. */
export function staleArp(options: StaleArpOptions): Checker {
  const expected = `the client never points at a node without ${options.vip} for more than ${options.maxMs} ms while another node holds it${options.expectedText ? ` (${options.expectedText})` : ""}`;
  return (ops) =>
    runCheck(
      options.name ?? `stale-arp(${options.vip})`,
      () => {
        const off = unavailable(ops);
        if (off) throw new Inconclusive(off);
        if (arpOps(ops, options.vip).length === 0) throw new Inconclusive(`the client never resolved ${options.vip}`);
        const spans = staleArpSpans(ops, options.vip).filter((s) => s.toMs > (options.fromMs ?? -Infinity));
        const total = spans.reduce((a, s) => a + (s.toMs - s.fromMs), 0);
        const longest = spans.reduce((a, s) => Math.max(a, s.toMs - s.fromMs), 0);
        const detail = spans.slice(0, 5).map((s) => `${s.pointedAt} from ${ms(s.fromMs)} for ${ms(s.toMs - s.fromMs)} (held by ${s.holders.join("+")})`).join("; ");
        return { verdict: longest <= options.maxMs ? "pass" : "fail", measured: total, unit: "ms", expected, ...(detail ? { detail } : {}) };
      },
      { expected, unit: "ms" },
    );
}

export interface ArpFlipsOptions {
  vip: string;
  fromMs?: number;
  toMs?: number;
  /** At least this many changes of node (e.g. 1 to show flapping during split brain). */
  min?: number;
  max?: number;
  name?: string;
}

/** measured = how many times the client's entry for the VIP changed from one node to another in the window. */
export function arpFlips(options: ArpFlipsOptions): Checker {
  const bounds = `${options.min !== undefined ? `≥ ${options.min}` : ""}${options.min !== undefined && options.max !== undefined ? " and " : ""}${options.max !== undefined ? `≤ ${options.max}` : ""}`;
  const expected = `the client's ARP entry for ${options.vip} changes node ${bounds || "(counted)"} times in [${options.fromMs ?? "start"}, ${options.toMs ?? "end"}) ms`;
  return (ops) =>
    runCheck(
      options.name ?? `arp-flips(${options.vip})`,
      () => {
        const off = unavailable(ops);
        if (off) throw new Inconclusive(off);
        const arp = arpOps(ops, options.vip).filter((a) => a.node !== null);
        let flips = 0;
        let prev: string | null | undefined;
        for (const a of arp) {
          if (prev !== undefined && a.node !== prev && a.atMs >= (options.fromMs ?? -Infinity) && a.atMs < (options.toMs ?? Infinity)) flips++;
          prev = a.node;
        }
        const pass = (options.min === undefined || flips >= options.min) && (options.max === undefined || flips <= options.max);
        return { verdict: pass ? "pass" : "fail", measured: flips, unit: "count", expected };
      },
      { expected, unit: "count" },
    );
}
