/**
 * What a live view shows, kept up to date op by op as the history grows (`history.subscribe`): each
 * load balancer's VRRP state, power and VIPs, the request rate and errors so far, recent requests
 * in short bins, and the last faults. The terminal status line and the web view both read it.
 */
import type { NewOp, VrrpState } from "../history/ops.ts";

/** Width of a bin of the recent-requests strip, and how many are kept. */
export const LIVE_BIN_MS = 250;
export const LIVE_BINS = 120;

export interface LiveNode {
  name: string;
  /** VRRP state per instance, as keepalived last logged it. */
  states: Record<string, VrrpState>;
  power: "on" | "off" | "frozen";
  /** VIPs on the node's interface now. */
  vips: string[];
}

export interface LiveBin {
  /** Start of the bin, ms since the run's start. */
  atMs: number;
  ok: number;
  failed: number;
  /** Ok requests by the load balancer that answered. */
  byLb: Record<string, number>;
}

export interface LiveSnapshot {
  /** ms since the run's start. */
  nowMs: number;
  vips: string[];
  nodes: LiveNode[];
  /** Holders of each VIP now. */
  owners: Record<string, string[]>;
  requests: { total: number; ok: number; failed: number; perSecond: number; lastLb: string | null };
  recent: LiveBin[];
  faults: Array<{ faultId: number; label: string; atMs: number; outcome: string | null }>;
  /** Set when the run is over (e.g. the report's path). */
  finished: string | null;
}

export class LiveState {
  private readonly nodes = new Map<string, LiveNode>();
  private readonly vips: string[];
  private readonly ends: number[] = [];
  private readonly bins = new Map<number, LiveBin>();
  private readonly faults = new Map<number, LiveSnapshot["faults"][number]>();
  private total = 0;
  private ok = 0;
  private lastLb: string | null = null;
  private latestMs = 0;
  private finished: string | null = null;

  /** @param nodes the load balancers, in display order; @param vips the VIPs to show */
  constructor(nodes: readonly string[], vips: readonly string[]) {
    this.vips = [...vips];
    for (const name of nodes) this.node(name);
  }

  apply(op: NewOp): void {
    this.latestMs = Math.max(this.latestMs, op.atMs);
    switch (op.f) {
      case "vip": {
        const n = this.node(op.node);
        if (op.event === "acquired" && !n.vips.includes(op.vip)) n.vips.push(op.vip);
        if (op.event === "released") n.vips = n.vips.filter((v) => v !== op.vip);
        break;
      }
      case "vrrp":
        this.node(op.node).states[op.instance] = op.to;
        break;
      case "fault": {
        const label = `#${op.faultId} ${op.kind} ${op.node}`;
        const known = this.faults.get(op.faultId);
        if (op.type === "invoke") this.faults.set(op.faultId, { faultId: op.faultId, label, atMs: op.atMs, outcome: null });
        else {
          this.faults.set(op.faultId, { faultId: op.faultId, label, atMs: known?.atMs ?? op.atMs, outcome: op.type });
          if (op.type === "ok" && this.nodes.has(op.node)) {
            const n = this.node(op.node);
            if (op.kind === "power-off") {
              n.power = "off";
              n.vips = [];
            } else if (op.kind === "power-on" || op.kind === "thaw" || op.kind === "reboot") n.power = "on";
            else if (op.kind === "freeze") n.power = "frozen";
          }
        }
        break;
      }
      case "request": {
        this.total++;
        const failed = op.outcome !== "ok" || (op.status !== undefined && op.status >= 500);
        if (!failed) this.ok++;
        if (!failed && op.lb) this.lastLb = op.lb;
        this.ends.push(op.endMs);
        this.latestMs = Math.max(this.latestMs, op.endMs);
        const start = Math.floor(op.atMs / LIVE_BIN_MS) * LIVE_BIN_MS;
        const bin = this.bins.get(start) ?? { atMs: start, ok: 0, failed: 0, byLb: {} };
        if (failed) bin.failed++;
        else {
          bin.ok++;
          const lb = op.lb ?? "?";
          bin.byLb[lb] = (bin.byLb[lb] ?? 0) + 1;
        }
        this.bins.set(start, bin);
        break;
      }
      default:
        break;
    }
  }

  /** The run is over; `message` says where to look next. */
  finish(message: string): void {
    this.finished = message;
  }

  /** The state at `nowMs` (ms since the run's start; default: the latest op seen). */
  snapshot(nowMs = this.latestMs): LiveSnapshot {
    while (this.ends.length && this.ends[0]! <= nowMs - 10_000) this.ends.shift();
    const perSecond = this.ends.filter((e) => e > nowMs - 1000 && e <= nowMs).length;
    const oldest = Math.floor(nowMs / LIVE_BIN_MS) * LIVE_BIN_MS - (LIVE_BINS - 1) * LIVE_BIN_MS;
    for (const k of this.bins.keys()) if (k < oldest) this.bins.delete(k);
    const owners: Record<string, string[]> = {};
    for (const vip of this.vips) owners[vip] = [...this.nodes.values()].filter((n) => n.vips.includes(vip)).map((n) => n.name);
    return {
      nowMs,
      vips: [...this.vips],
      nodes: [...this.nodes.values()].map((n) => ({ ...n, states: { ...n.states }, vips: [...n.vips] })),
      owners,
      requests: { total: this.total, ok: this.ok, failed: this.total - this.ok, perSecond, lastLb: this.lastLb },
      recent: [...this.bins.values()].sort((a, b) => a.atMs - b.atMs),
      faults: [...this.faults.values()].sort((a, b) => a.atMs - b.atMs).slice(-5),
      finished: this.finished,
    };
  }

  private node(name: string): LiveNode {
    let n = this.nodes.get(name);
    if (!n) {
      n = { name, states: {}, power: "on", vips: [] };
      this.nodes.set(name, n);
    }
    return n;
  }
}

/**
 * One line for a terminal: `lb1 MASTER ●VIP │ lb2 BACKUP │ 200 req/s │ 12 failed of 3400 │ 12.3 s`,
 * cut to `columns`.
 */
export function formatStatusLine(s: LiveSnapshot, columns = 120): string {
  const nodes = s.nodes.map((n) => {
    const states = [...new Set(Object.values(n.states))];
    const state = n.power === "off" ? "OFF" : n.power === "frozen" ? "FROZEN" : states.join("/") || "…";
    const vips = n.vips.length === 0 ? "" : s.vips.length > 1 ? ` ●${n.vips.map((v) => v.split(".").pop()).join(",")}` : " ●VIP";
    return `${n.name} ${state}${vips}`;
  });
  const r = s.requests;
  const line = [...nodes, `${r.perSecond} req/s`, `${r.failed} failed of ${r.total}`, `${(s.nowMs / 1000).toFixed(1)} s`].join(" │ ");
  return line.length > columns ? `${line.slice(0, Math.max(0, columns - 1))}…` : line;
}
