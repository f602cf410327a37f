/**
 * The HTML report: one self-contained page that opens offline. Its chart is a Vega-Lite spec
 * rendered to SVG in Node (vega's View.toSVG(), no browser), embedded inline together with the spec
 * and the report JSON; its checks are a table of measured against expected.
 *
 * The chart, top to bottom, on one time axis (seconds since the run's start):
 *   faults     a marker per fault: "#1 power-off lb1"; a dashed rule through every lane below
 *   timeline   one lane per load balancer: its VRRP state (keepalived's log; OFF while powered off,
 *              FROZEN while frozen) and, beside it, when it held each VIP; split brain shaded red
 *   requests   the client's requests by outcome, then by the load balancer that answered, counted in
 *              time bins by start (a bin is 50 ms–10 s, chosen for ≤ 300 bins, so a 20 s run at
 *              200 requests/s is 200 bins, not 4000 marks); error windows shaded
 *   latency    per bin, median and maximum latency of the ok requests (log scale; a point per bin,
 *              none where no request succeeded)
 */
import { parse, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { ownershipIntervals } from "../checkers/ownership.ts";
import { effectiveOutcome, isFailed } from "../checkers/requests.ts";
import { faultOps, historyEndMs, requestOps, vipsIn, vrrpOps } from "../checkers/select.ts";
import type { Op } from "../history/ops.ts";
import type { Report } from "./report.ts";

export type HtmlLang = "en" | "zh-CN";

/** Bin widths the request strip may use, ms. */
export const BIN_CHOICES_MS = [50, 100, 200, 250, 500, 1000, 2000, 5000, 10_000] as const;
export const MAX_BINS = 300;

/** The narrowest bin that keeps a run of `durationMs` within MAX_BINS bins. */
export function chooseBinMs(durationMs: number): number {
  return BIN_CHOICES_MS.find((b) => durationMs / b <= MAX_BINS) ?? BIN_CHOICES_MS[BIN_CHOICES_MS.length - 1]!;
}

const STATE_COLORS: Record<string, string> = {
  MASTER: "#1a9850",
  BACKUP: "#4575b4",
  FAULT: "#f46d43",
  STOP: "#969696",
  INIT: "#d9d9d9",
  OFF: "#000000",
  FROZEN: "#74add1",
  "holds the VIP": "#762a83",
};
const OUTCOME_COLORS: Record<string, string> = {
  ok: "#1a9850",
  "http-error": "#d73027",
  refused: "#f46d43",
  timeout: "#a50026",
  reset: "#fdae61",
  error: "#67001f",
};
const SERVER_PALETTE = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02"];

// ---------------------------------------------------------------------------------------------
// data

export interface LaneSegment {
  node: string;
  /** "VRRP", "VRRP VI_1", "VIP", "VIP 10.213.0.100" */
  row: string;
  state: string;
  fromS: number;
  toS: number;
}

export interface FaultMarker {
  faultId: number;
  label: string;
  atS: number;
  row: number;
}

export interface BinCount {
  fromS: number;
  toS: number;
  key: string;
  count: number;
  /** Stacked extent of this key in its bin: [y0, y1). */
  y0: number;
  y1: number;
}

export interface LatencyPoint {
  atS: number;
  stat: "median" | "max";
  ms: number;
}

export interface ChartData {
  durationS: number;
  binMs: number;
  nodes: string[];
  lanes: LaneSegment[];
  faults: FaultMarker[];
  splitBrain: Array<{ fromS: number; toS: number; label: string }>;
  errorWindows: Array<{ fromS: number; toS: number; label: string }>;
  byOutcome: BinCount[];
  byServer: BinCount[];
  latency: LatencyPoint[];
  requests: number;
}

const s = (ms: number) => Math.round(ms) / 1000;

/** Everything the chart shows, from the report and the history. Pure. */
export function chartData(report: Report, ops: readonly Op[]): ChartData {
  const endMs = Math.max(report.durationMs, historyEndMs(ops));
  const vips = vipsIn(ops);
  const instances = [...new Set(vrrpOps(ops).map((o) => o.instance))].sort();
  const lanes: LaneSegment[] = [];
  const vipRow = (vip: string) => (vips.length > 1 ? `VIP ${vip}` : "VIP");
  const vrrpRow = (inst: string) => (instances.length > 1 ? `VRRP ${inst}` : "VRRP");

  for (const iv of ownershipIntervals(ops)) {
    lanes.push({ node: iv.node, row: vipRow(iv.vip), state: "holds the VIP", fromS: s(iv.fromMs), toS: s(iv.toMs ?? endMs) });
  }

  // VRRP states per node and instance, cut by power-off (OFF until keepalived speaks again) and
  // freeze (FROZEN until the thaw, then the state it had).
  const faults = faultOps(ops);
  const power = faults.filter((f) => f.type === "ok" && ["power-off", "freeze", "thaw", "reboot"].includes(f.kind));
  for (const node of [...new Set(vrrpOps(ops).map((o) => o.node))]) {
    for (const inst of instances) {
      type Ev = { at: number; kind: "state"; to: string } | { at: number; kind: "off" | "frozen" | "thawed" };
      const events: Ev[] = [
        ...vrrpOps(ops)
          .filter((o) => o.node === node && o.instance === inst)
          .map((o): Ev => ({ at: o.atMs, kind: "state", to: o.to })),
        ...power
          .filter((f) => f.node === node)
          .map((f): Ev => ({ at: f.effectAtMs ?? f.atMs, kind: f.kind === "freeze" ? "frozen" : f.kind === "thaw" ? "thawed" : "off" })),
      ].sort((a, b) => a.at - b.at);
      if (!events.some((e) => e.kind === "state")) continue;
      let state: string | undefined;
      let frozen = false;
      let shown: string | undefined;
      let since = 0;
      const show = (at: number) => {
        const now = frozen ? "FROZEN" : state;
        if (now === shown) return;
        if (shown !== undefined && at > since) lanes.push({ node, row: vrrpRow(inst), state: shown, fromS: s(since), toS: s(at) });
        shown = now;
        since = at;
      };
      for (const e of events) {
        if (e.kind === "state") state = e.to;
        else if (e.kind === "off") {
          state = state === undefined ? undefined : "OFF";
          frozen = false;
        } else frozen = e.kind === "frozen";
        show(e.at);
      }
      if (shown !== undefined && endMs > since) lanes.push({ node, row: vrrpRow(inst), state: shown, fromS: s(since), toS: s(endMs) });
    }
  }
  const nodes = [...new Set(lanes.map((l) => l.node))].sort(natural);

  const markers: FaultMarker[] = report.faults.map((f, i) => ({
    faultId: f.faultId,
    label: `#${f.faultId} ${f.kind} ${f.node}${f.outcome && f.outcome !== "ok" ? ` (${f.outcome})` : ""}`,
    atS: s(f.effectAtMs ?? f.atMs),
    row: i % 3,
  }));

  const binMs = chooseBinMs(endMs);
  const reqs = requestOps(ops);
  const outcome = new Map<string, BinCount>();
  const server = new Map<string, BinCount>();
  const latencies = new Map<number, number[]>();
  const bump = (m: Map<string, BinCount>, bin: number, key: string) => {
    const id = `${bin}\0${key}`;
    const c = m.get(id) ?? { fromS: s(bin * binMs), toS: s((bin + 1) * binMs), key, count: 0, y0: 0, y1: 0 };
    c.count++;
    m.set(id, c);
  };
  for (const r of reqs) {
    const bin = Math.floor(r.atMs / binMs);
    bump(outcome, bin, effectiveOutcome(r));
    bump(server, bin, r.lb ?? (isFailed(r) ? "no answer" : "unknown"));
    if (!isFailed(r)) {
      const list = latencies.get(bin) ?? [];
      list.push(r.endMs - r.atMs);
      latencies.set(bin, list);
    }
  }
  const outcomeOrder = Object.keys(OUTCOME_COLORS);
  const byOutcome = stack([...outcome.values()], (a, b) => rank(outcomeOrder, a) - rank(outcomeOrder, b));
  const byServer = stack([...server.values()], natural);
  const latency: LatencyPoint[] = [];
  for (const [bin, list] of [...latencies].sort((a, b) => a[0] - b[0])) {
    list.sort((a, b) => a - b);
    const at = s((bin + 0.5) * binMs);
    latency.push({ atS: at, stat: "median", ms: Math.max(0.1, round1(list[Math.floor((list.length - 1) / 2)]!)) });
    latency.push({ atS: at, stat: "max", ms: Math.max(0.1, round1(list[list.length - 1]!)) });
  }

  return {
    durationS: s(endMs),
    binMs,
    nodes,
    lanes,
    faults: markers,
    splitBrain: report.splitBrain.map((b) => ({ fromS: s(b.fromMs), toS: s(b.toMs ?? endMs), label: `split brain: ${b.vip} on ${b.nodes.join(" + ")}` })),
    errorWindows: report.requests.errorWindows.map((w) => ({ fromS: s(w.fromMs), toS: s(w.toMs), label: `${w.count} failed (${w.stream})` })),
    byOutcome,
    byServer,
    latency,
    requests: reqs.length,
  };
}

/** Stack each bin's counts in key order (y0/y1), bins in time order. */
function stack(counts: BinCount[], order: (a: string, b: string) => number): BinCount[] {
  counts.sort((a, b) => a.fromS - b.fromS || order(a.key, b.key));
  let bin = Number.NaN;
  let y = 0;
  for (const c of counts) {
    if (c.fromS !== bin) {
      bin = c.fromS;
      y = 0;
    }
    c.y0 = y;
    y += c.count;
    c.y1 = y;
  }
  return counts;
}

function rank(order: readonly string[], key: string): number {
  const i = order.indexOf(key);
  return i === -1 ? order.length : i;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

function natural(a: string, b: string): number {
  return a.localeCompare(b, "en", { numeric: true });
}

// ---------------------------------------------------------------------------------------------
// the chart

const WORDS = {
  en: {
    time: "seconds since the run's start",
    node: "node",
    state: "VRRP state / VIP",
    outcome: "outcome",
    servedBy: "answered by",
    requests: (binMs: number) => `requests / ${binMs} ms`,
    latency: "ok latency, ms",
    stat: "latency",
    faults: "faults",
    title: "Timeline",
    checks: "Checks",
    verdict: "verdict",
    check: "check",
    measured: "measured",
    expected: "expected",
    detail: "detail",
    figures: "Figures",
    faultTable: "Faults",
    started: "started",
    duration: "duration",
    requestsLine: (t: number, ok: number, failed: number) => `${t} requests, ${ok} ok, ${failed} failed`,
    binNote: (binMs: number, n: number) =>
      `The request strips count the ${n} requests in ${binMs} ms bins by their start; shaded: error windows (docs/report.md). ` +
      "Lanes: keepalived's VRRP state (OFF while the node is powered off, FROZEN while frozen) and when the node held the VIP; red: split brain.",
    fault: { kind: "fault", node: "node", at: "invoked, s", effect: "took effect, s", outcome: "outcome", detail: "detail" },
  },
  "zh-CN": {
    time: "自运行开始的秒数",
    node: "节点",
    state: "VRRP 状态 / VIP",
    outcome: "结果",
    servedBy: "应答的负载均衡器",
    requests: (binMs: number) => `请求数 / ${binMs} 毫秒`,
    latency: "成功请求延迟（毫秒）",
    stat: "延迟",
    faults: "故障",
    title: "时间线",
    checks: "检查",
    verdict: "结论",
    check: "检查项",
    measured: "实测",
    expected: "预期",
    detail: "详情",
    figures: "关键数字",
    faultTable: "注入的故障",
    started: "开始于",
    duration: "时长",
    requestsLine: (t: number, ok: number, failed: number) => `共 ${t} 个请求，成功 ${ok} 个，失败 ${failed} 个`,
    binNote: (binMs: number, n: number) =>
      `请求条带把 ${n} 个请求按开始时间以 ${binMs} 毫秒为一格计数；阴影为错误窗口（见 docs/report.md）。` +
      "每个节点一条泳道：keepalived 的 VRRP 状态（断电期间为 OFF，冻结期间为 FROZEN）以及该节点持有 VIP 的时段；红色为脑裂。",
    fault: { kind: "故障", node: "节点", at: "注入时间（秒）", effect: "生效时间（秒）", outcome: "结果", detail: "详情" },
  },
} as const;

const WIDTH = 900;

/** The Vega-Lite spec of the chart (data inline). */
export function chartSpec(data: ChartData, lang: HtmlLang = "en"): TopLevelSpec {
  const w = WORDS[lang];
  const x = (field: string, axis = true) => ({
    field,
    type: "quantitative" as const,
    scale: { domain: [0, data.durationS], nice: false, zero: true },
    axis: axis ? { title: w.time, grid: true } : { title: null, labels: false, ticks: false, grid: true },
  });
  const servers = [...new Set(data.byServer.map((b) => b.key))].sort(natural);
  const serverColors = servers.map((k, i) => (k === "no answer" ? "#d73027" : k === "unknown" ? "#bdbdbd" : SERVER_PALETTE[i % SERVER_PALETTE.length]!));
  const outcomes = Object.keys(OUTCOME_COLORS).filter((o) => data.byOutcome.some((b) => b.key === o));
  const rows = [...new Set(data.lanes.map((l) => l.row))].sort((a, b) => (a.startsWith("VRRP") === b.startsWith("VRRP") ? natural(a, b) : a.startsWith("VRRP") ? -1 : 1));
  const shade = (values: Array<{ fromS: number; toS: number; label: string }>, color: string, opacity: number) => ({
    data: { values },
    mark: { type: "rect" as const, color, opacity },
    encoding: { x: x("fromS", false), x2: { field: "toS" }, tooltip: { field: "label" } },
  });
  const faultRules = {
    data: { values: data.faults },
    mark: { type: "rule" as const, color: "#000", strokeDash: [4, 3] },
    encoding: { x: x("atS", false), tooltip: { field: "label" } },
  };

  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    config: { font: "DejaVu Sans, Noto Sans CJK SC, sans-serif", view: { stroke: "#bbb" }, axis: { labelFontSize: 11, titleFontSize: 12 } },
    background: "white",
    spacing: 12,
    resolve: { scale: { x: "shared", color: "independent", y: "independent" }, legend: { color: "independent" } },
    vconcat: [
      {
        name: "faults",
        width: WIDTH,
        height: 54,
        title: { text: w.faults, anchor: "start", fontSize: 13 },
        layer: [
          { data: { values: data.faults }, mark: { type: "tick", color: "#000", thickness: 2 }, encoding: { x: x("atS", false), y: { field: "row", type: "ordinal", axis: null } } },
          {
            data: { values: data.faults },
            mark: { type: "text", align: "left", dx: 4, fontSize: 11, fontWeight: "bold" },
            encoding: { x: x("atS", false), y: { field: "row", type: "ordinal", axis: null }, text: { field: "label" } },
          },
        ],
      },
      {
        name: "timeline",
        width: WIDTH,
        height: { step: 22 * Math.max(1, rows.length) },
        layer: [
          shade(data.splitBrain, "#d73027", 0.3),
          {
            data: { values: data.lanes },
            mark: { type: "bar", cornerRadius: 2 },
            encoding: {
              x: x("fromS", false),
              x2: { field: "toS" },
              y: { field: "node", type: "nominal", sort: data.nodes, title: w.node, axis: { labelFontSize: 13, labelFontWeight: "bold" } },
              yOffset: { field: "row", type: "nominal", sort: rows },
              color: {
                field: "state",
                type: "nominal",
                title: w.state,
                scale: { domain: Object.keys(STATE_COLORS), range: Object.values(STATE_COLORS) },
              },
              tooltip: [{ field: "node" }, { field: "row" }, { field: "state" }, { field: "fromS", title: "from, s" }, { field: "toS", title: "to, s" }],
            },
          },
          faultRules,
        ],
      },
      {
        name: "outcomes",
        width: WIDTH,
        height: 70,
        layer: [
          {
            data: { values: data.byOutcome },
            mark: { type: "rect", aria: false },
            encoding: {
              x: x("fromS", false),
              x2: { field: "toS" },
              y: { field: "y1", type: "quantitative", title: w.requests(data.binMs) },
              y2: { field: "y0" },
              color: { field: "key", type: "nominal", title: w.outcome, scale: { domain: outcomes, range: outcomes.map((o) => OUTCOME_COLORS[o]!) } },
            },
          },
          shade(data.errorWindows, "#d73027", 0.15),
          faultRules,
        ],
      },
      {
        name: "served",
        width: WIDTH,
        height: 70,
        layer: [
          {
            data: { values: data.byServer },
            mark: { type: "rect", aria: false },
            encoding: {
              x: x("fromS", false),
              x2: { field: "toS" },
              y: { field: "y1", type: "quantitative", title: w.requests(data.binMs) },
              y2: { field: "y0" },
              color: { field: "key", type: "nominal", title: w.servedBy, scale: { domain: servers, range: serverColors } },
            },
          },
          shade(data.errorWindows, "#d73027", 0.15),
          faultRules,
        ],
      },
      {
        name: "latency",
        width: WIDTH,
        height: 110,
        layer: [
          {
            data: { values: data.latency },
            mark: { type: "point", filled: true, size: 14, opacity: 0.9, aria: false },
            encoding: {
              x: x("atS"),
              y: { field: "ms", type: "quantitative", scale: { type: "log" }, title: w.latency },
              color: { field: "stat", type: "nominal", title: w.stat, scale: { domain: ["median", "max"], range: ["#2166ac", "#b2182b"] } },
            },
          },
          shade(data.errorWindows, "#d73027", 0.15),
          faultRules,
        ],
      },
    ],
  } as TopLevelSpec;
}

/** Render a Vega-Lite spec to an SVG string in Node (no browser). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

// ---------------------------------------------------------------------------------------------
// the page

export interface HtmlReportOptions {
  lang?: HtmlLang;
}

/** The whole page: header, figures, the chart (inline SVG), the checks table, the faults, and the data. */
export async function renderHtmlReport(report: Report, ops: readonly Op[], options: HtmlReportOptions = {}): Promise<string> {
  const lang = options.lang ?? "en";
  const w = WORDS[lang];
  const data = chartData(report, ops);
  const spec = chartSpec(data, lang);
  const svg = await renderSvg(spec);
  const r = report.requests;
  const figures = Object.entries(report.figures)
    .map(([k, v]) => `<div class="figure"><span class="k">${esc(k)}</span><span class="v">${v === null ? "—" : esc(k.endsWith("Ms") ? `${v.toFixed(1)} ms` : String(v))}</span></div>`)
    .join("");
  const checks = report.checks
    .map(
      (c) =>
        `<tr class="${c.verdict}"><td class="verdict">${c.verdict.toUpperCase()}</td><td>${esc(c.name)}</td>` +
        `<td class="num">${esc(formatMeasured(c.measured, c.unit))}</td><td>${esc(c.expected)}</td><td class="detail">${esc(c.detail ?? "")}</td></tr>`,
    )
    .join("\n");
  const faults = report.faults
    .map(
      (f) =>
        `<tr><td>#${f.faultId} ${esc(f.kind)}</td><td>${esc(f.node)}</td><td class="num">${(f.atMs / 1000).toFixed(3)}</td>` +
        `<td class="num">${f.effectAtMs === null ? "—" : (f.effectAtMs / 1000).toFixed(3)}</td><td>${esc(f.outcome ?? "—")}</td><td class="detail">${esc(f.detail ?? "")}</td></tr>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="failover-lab">
<title>failover-lab · ${esc(report.scenario)} · ${report.verdict.toUpperCase()}</title>
<style>
body { font-family: "DejaVu Sans", "Noto Sans CJK SC", sans-serif; margin: 1.5rem; color: #111; background: #fff; }
h1 { margin: 0 0 .3rem; font-size: 1.6rem; }
h2 { font-size: 1.2rem; margin: 1.5rem 0 .5rem; }
.verdict-badge { padding: .1rem .6rem; border-radius: .3rem; color: #fff; font-size: 1.1rem; vertical-align: middle; }
.verdict-badge.pass { background: #1a9850; } .verdict-badge.fail { background: #d73027; } .verdict-badge.unknown { background: #f46d43; }
.meta { color: #444; margin: .2rem 0; }
.figures { display: flex; flex-wrap: wrap; gap: .5rem; }
.figure { border: 1px solid #ccc; border-radius: .3rem; padding: .3rem .6rem; }
.figure .k { color: #555; margin-right: .5rem; } .figure .v { font-weight: bold; }
figure { margin: 0; overflow-x: auto; }
.note { color: #555; font-size: .9rem; max-width: 75rem; }
table { border-collapse: collapse; font-size: .9rem; }
th, td { border: 1px solid #ccc; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.detail { color: #555; font-size: .8rem; max-width: 30rem; }
tr.pass td.verdict { color: #1a9850; font-weight: bold; } tr.fail td.verdict { color: #d73027; font-weight: bold; } tr.unknown td.verdict { color: #f46d43; font-weight: bold; }
</style>
</head>
<body>
<header>
<h1>${esc(report.scenario)} <span class="verdict-badge ${report.verdict}" id="verdict">${report.verdict.toUpperCase()}</span></h1>
${report.description ? `<p class="meta">${esc(report.description)}</p>` : ""}
<p class="meta">${w.started} ${esc(report.startedAt)} · ${w.duration} ${(report.durationMs / 1000).toFixed(1)} s · ${esc(w.requestsLine(r.total, r.ok, r.failed))}</p>
</header>
<section id="figures"><h2>${w.figures}</h2><div class="figures">${figures}</div></section>
<section id="timeline"><h2>${w.title}</h2>
<figure id="chart" data-nodes="${esc(data.nodes.join(" "))}" data-bin-ms="${data.binMs}">${svg}</figure>
<p class="note">${esc(w.binNote(data.binMs, data.requests))}</p>
</section>
<section id="checks"><h2>${w.checks}</h2>
<table><thead><tr><th>${w.verdict}</th><th>${w.check}</th><th>${w.measured}</th><th>${w.expected}</th><th>${w.detail}</th></tr></thead>
<tbody>
${checks}
</tbody></table>
</section>
<section id="faults"><h2>${w.faultTable}</h2>
<table><thead><tr><th>${w.fault.kind}</th><th>${w.fault.node}</th><th>${w.fault.at}</th><th>${w.fault.effect}</th><th>${w.fault.outcome}</th><th>${w.fault.detail}</th></tr></thead>
<tbody>
${faults}
</tbody></table>
</section>
<script type="application/json" id="report-json">${jsonForScript(report)}</script>
<script type="application/json" id="vega-lite-spec">${jsonForScript(spec)}</script>
</body>
</html>
`;
}

function formatMeasured(value: number | string | null, unit: string | undefined): string {
  if (value === null) return "—";
  if (typeof value === "number" && unit === "ms") return `${value.toFixed(1)} ms`;
  return String(value);
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** JSON that cannot end its <script> element early. */
function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c");
}
