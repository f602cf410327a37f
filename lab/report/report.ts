/**
 * The REPORT: one JSON document per run, built from the finished history and the checkers' results.
 * It is a contract (schema `failover-lab/report@1`, documented field by field in docs/report.md):
 * fields are only ever added; a change of meaning gets a new schema name.
 *
 * Every time is milliseconds since the run's start on the lab's monotonic clock, rounded to 0.1 ms.
 */
import type { FaultKind, FaultOp, Op, VrrpState } from "../history/ops.ts";
import { round1 } from "../checkers/format.ts";
import { nacosSummary } from "../checkers/nacos.ts";
import { errorWindows, requestSummary } from "../checkers/requests.ts";
import { faultOps, requestOps, streamsIn, vipOps, vipsIn, vrrpOps } from "../checkers/select.ts";
import type { CheckResult, CheckUnit, Verdict } from "../checkers/types.ts";
import { splitBrainSpans } from "../checkers/vip.ts";

export const REPORT_SCHEMA = "failover-lab/report@1";

export interface ReportCheck {
  name: string;
  verdict: Verdict;
  measured: number | string | null;
  expected: string;
  unit?: CheckUnit;
  detail?: string;
}

export interface ReportFault {
  faultId: number;
  kind: FaultKind;
  node: string;
  /** When the nemesis invoked it. */
  atMs: number;
  /** How it completed; `null` when the history has no completion (the run ended mid-fault). */
  outcome: "ok" | "info" | "fail" | null;
  completedAtMs: number | null;
  /** When the fault took effect in the node (signal sent, node died or started), as timed there or by the engine; `null` when unknown. */
  effectAtMs: number | null;
  /** The completion's detail, else the invoke's. */
  detail?: string;
}

export interface ReportVipEvent {
  node: string;
  vip: string;
  event: "acquired" | "released";
  atMs: number;
  source: "monitor" | "snapshot" | "node-down";
}

export interface ReportVrrpTransition {
  node: string;
  instance: string;
  from: VrrpState;
  to: VrrpState;
  atMs: number;
}

export interface ReportSplitBrain {
  vip: string;
  fromMs: number;
  /** `null`: still split when the history ended. */
  toMs: number | null;
  nodes: string[];
}

export interface ReportErrorWindow {
  stream: string;
  fromMs: number;
  toMs: number;
  count: number;
}

export interface ReportRequests {
  streams: string[];
  total: number;
  ok: number;
  failed: number;
  byStream: Record<string, { total: number; ok: number; failed: number }>;
  errorWindows: ReportErrorWindow[];
  byOutcome: Record<string, number>;
  byServer: Record<string, number>;
  byLb: Record<string, number>;
  byBackend: Record<string, number>;
  latencyMs: { p50: number | null; p99: number | null; max: number | null };
}

/** What the Nacos workload saw (`nacos` ops); see docs/report.md. */
export interface ReportNacos {
  total: number;
  ok: number;
  failed: number;
  /** Per operation (register, beat, list, publish, get-config, cluster-nodes, server-check); the end-of-run verification reads under `final`. */
  byOperation: Record<string, { total: number; ok: number; failed: number }>;
  byOutcome: Record<string, number>;
  /** Calls answered, by the Nacos member that answered. */
  byMember: Record<string, number>;
  /** Calls answered, by load balancer. */
  byLb: Record<string, number>;
  /** Calls nginx sent to another member first (it routed around one). */
  routedAround: number;
  errorWindows: Array<{ fromMs: number; toMs: number; count: number }>;
}

export interface Report {
  schema: typeof REPORT_SCHEMA;
  scenario: string;
  description: string | null;
  /** Wall-clock time of the run's origin (ISO 8601, UTC), for display only. */
  startedAt: string;
  durationMs: number;
  verdict: Verdict;
  checks: ReportCheck[];
  faults: ReportFault[];
  vipEvents: ReportVipEvent[];
  vrrpTransitions: ReportVrrpTransition[];
  splitBrain: ReportSplitBrain[];
  /** The client's ARP entry for each VIP over time: which MAC, so which node, its traffic went to. */
  clientArp: Array<{ vip: string; mac: string | null; node: string | null; state: string; atMs: number }>;
  /** Gratuitous ARPs for the VIPs seen on the wire (only with a client node). */
  garps: Array<{ vip: string; mac: string; node: string | null; atMs: number }>;
  /** Each change of a director's IPVS table as its observer saw it: a service or real server in or out, a weight. */
  ipvsChanges: ReportIpvsChange[];
  requests: ReportRequests;
  /** The Nacos workload's calls through the VIP; `null` when the run had none. */
  nacos: ReportNacos | null;
  figures: Record<string, number | null>;
}

export interface ReportIpvsChange {
  node: string;
  atMs: number;
  /** "10.213.1.22:80 out of TCP 10.213.1.150:80", "10.213.1.22:80 into TCP 10.213.1.150:80 (weight 1)", … */
  change: string;
}

export interface BuildReportInput {
  scenario: string;
  description?: string;
  startedAt: Date;
  durationMs: number;
  ops: readonly Op[];
  checks: readonly CheckResult[];
  /** Headline figures; a name ending in `Ms` is a duration in ms (rounded to 0.1), others pass unchanged. */
  figures: Record<string, number | null>;
}

/** `fail` if any check failed; else `unknown` if any was unknown, or if there are no checks; else `pass`. */
export function reportVerdict(checks: readonly Pick<CheckResult, "verdict">[]): Verdict {
  if (checks.some((c) => c.verdict === "fail")) return "fail";
  if (checks.length === 0 || checks.some((c) => c.verdict !== "pass")) return "unknown";
  return "pass";
}

export function buildReport(input: BuildReportInput): Report {
  const { ops } = input;
  if (!(Number.isFinite(input.durationMs) && input.durationMs >= 0)) {
    throw new RangeError(`Expected durationMs to be a non-negative number, got ${input.durationMs}`);
  }
  if (Number.isNaN(input.startedAt.getTime())) {
    throw new RangeError("Expected startedAt to be a valid Date, got an invalid one");
  }
  return {
    schema: REPORT_SCHEMA,
    scenario: input.scenario,
    description: input.description ?? null,
    startedAt: input.startedAt.toISOString(),
    durationMs: t(input.durationMs),
    verdict: reportVerdict(input.checks),
    checks: input.checks.map(reportCheck),
    faults: reportFaults(faultOps(ops)),
    vipEvents: vipOps(ops).map((e) => ({ node: e.node, vip: e.vip, event: e.event, atMs: t(e.atMs), source: e.source })),
    vrrpTransitions: vrrpOps(ops).map((e) => ({
      node: e.node,
      instance: e.instance,
      from: e.from,
      to: e.to,
      atMs: t(e.atMs),
    })),
    splitBrain: vipsIn(ops)
      .flatMap((vip) => splitBrainSpans(ops, vip))
      .sort((a, b) => a.fromMs - b.fromMs)
      .map((s) => ({ vip: s.vip, fromMs: t(s.fromMs), toMs: s.toMs === null ? null : t(s.toMs), nodes: s.nodes })),
    clientArp: ops.flatMap((o) => (o.f === "arp" ? [{ vip: o.vip, mac: o.mac, node: o.node, state: o.state, atMs: t(o.atMs) }] : [])),
    garps: ops.flatMap((o) => (o.f === "garp" ? [{ vip: o.vip, mac: o.mac, node: o.node, atMs: t(o.atMs) }] : [])),
    ipvsChanges: ipvsChanges(ops).map((c) => ({ ...c, atMs: t(c.atMs) })),
    requests: reportRequests(ops),
    nacos: reportNacos(ops),
    figures: Object.fromEntries(Object.entries(input.figures).map(([k, v]) => [k, reportFigure(k, v)])),
  };
}

/**
 * The changes between each director's consecutive IPVS tables (the observer records a table only when
 * it differs from the last). The first table of a director is its starting point, not a change.
 */
export function ipvsChanges(ops: readonly Op[]): ReportIpvsChange[] {
  const last = new Map<string, Map<string, Map<string, number>>>();
  const out: ReportIpvsChange[] = [];
  for (const o of ops) {
    if (o.f !== "ipvs" || o.error !== undefined) continue;
    const now = new Map(o.services.map((s) => [s.service, new Map(s.realServers.map((r) => [r.address, r.weight]))]));
    const before = last.get(o.node);
    last.set(o.node, now);
    if (!before) continue;
    const say = (change: string) => out.push({ node: o.node, atMs: o.atMs, change });
    for (const [svc, rss] of before) {
      if (!now.has(svc)) say(`service ${svc} gone`);
      else for (const rs of rss.keys()) if (!now.get(svc)!.has(rs)) say(`${rs} out of ${svc}`);
    }
    for (const [svc, rss] of now) {
      const old = before.get(svc);
      if (!old) say(`service ${svc} added${rss.size ? ` with ${[...rss.keys()].join(", ")}` : ""}`);
      else
        for (const [rs, w] of rss) {
          if (!old.has(rs)) say(`${rs} into ${svc} (weight ${w})`);
          else if (old.get(rs) !== w) say(`${rs} in ${svc}: weight ${old.get(rs)} → ${w}`);
        }
    }
  }
  return out;
}

/** 0 when the report passes; 1 when a check failed or could not decide (a run that proves nothing is not a pass). */
export function reportExitCode(report: Pick<Report, "verdict">): 0 | 1 {
  return report.verdict === "pass" ? 0 : 1;
}

function reportCheck(c: CheckResult): ReportCheck {
  const measured = typeof c.measured === "number" ? (c.unit === "ms" ? finiteT(c.measured) : finite(c.measured)) : c.measured;
  return {
    name: c.name,
    verdict: c.verdict,
    measured,
    expected: c.expected,
    ...(c.unit !== undefined ? { unit: c.unit } : {}),
    ...(c.detail !== undefined ? { detail: c.detail } : {}),
  };
}

function reportFaults(faults: readonly FaultOp[]): ReportFault[] {
  const out: ReportFault[] = [];
  for (const inv of faults) {
    if (inv.type !== "invoke") continue;
    const done = faults.find((op) => op.faultId === inv.faultId && op.type !== "invoke" && op.atMs >= inv.atMs);
    const detail = done?.detail ?? inv.detail;
    out.push({
      faultId: inv.faultId,
      kind: inv.kind,
      node: inv.node,
      atMs: t(inv.atMs),
      outcome: done === undefined ? null : (done.type as "ok" | "info" | "fail"),
      completedAtMs: done === undefined ? null : t(done.atMs),
      effectAtMs: done?.effectAtMs === undefined ? null : t(done.effectAtMs),
      ...(detail !== undefined ? { detail } : {}),
    });
  }
  return out;
}

function reportRequests(ops: readonly Op[]): ReportRequests {
  const streams = streamsIn(ops);
  const all = requestSummary(ops);
  const byStream: ReportRequests["byStream"] = {};
  const windows: ReportErrorWindow[] = [];
  for (const stream of streams) {
    const s = requestSummary(ops, stream);
    byStream[stream] = { total: s.total, ok: s.ok, failed: s.failed };
    for (const w of errorWindows(requestOps(ops, stream), { stream })) {
      windows.push({ stream, fromMs: t(w.fromMs), toMs: t(w.toMs), count: w.count });
    }
  }
  windows.sort((a, b) => a.fromMs - b.fromMs || (a.stream < b.stream ? -1 : 1));
  const lat = (x: number | null) => (x === null ? null : t(x));
  return {
    streams,
    total: all.total,
    ok: all.ok,
    failed: all.failed,
    byStream,
    errorWindows: windows,
    byOutcome: all.byOutcome,
    byServer: all.byServer,
    byLb: all.byLb,
    byBackend: all.byBackend,
    latencyMs: { p50: lat(all.latencyMs.p50), p99: lat(all.latencyMs.p99), max: lat(all.latencyMs.max) },
  };
}

function reportNacos(ops: readonly Op[]): ReportNacos | null {
  const s = nacosSummary(ops);
  if (s.total === 0) return null;
  return { ...s, errorWindows: s.errorWindows.map((w) => ({ fromMs: t(w.fromMs), toMs: t(w.toMs), count: w.count })) };
}

/** A figure named `…Ms` is rounded to 0.1 ms; NaN and ±Infinity become null (JSON has neither). */
function reportFigure(name: string, value: number | null): number | null {
  const x = finite(value);
  return x !== null && name.endsWith("Ms") ? t(x) : x;
}

function t(ms: number): number {
  return round1(ms);
}

function finite(x: number | null): number | null {
  return x === null || !Number.isFinite(x) ? null : x;
}

function finiteT(x: number): number | null {
  return Number.isFinite(x) ? t(x) : null;
}
