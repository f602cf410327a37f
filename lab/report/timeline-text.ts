/** What happened in a run, in time order and plain words: faults, VRRP states, VIP moves, client errors. */
import type { Report } from "./report.ts";

export function formatTimeline(report: Report): string {
  const rows: Array<[number, string]> = [];
  for (const f of report.faults) {
    rows.push([f.atMs, `fault     ${f.kind} on ${f.node}${f.outcome && f.outcome !== "ok" ? ` (${f.outcome}${f.detail ? `: ${f.detail}` : ""})` : ""}`]);
  }
  for (const t of report.vrrpTransitions) rows.push([t.atMs, `vrrp      ${t.node} ${t.instance}: ${t.from} → ${t.to}`]);
  for (const e of report.vipEvents) rows.push([e.atMs, `vip       ${e.node} ${e.event} ${e.vip}${e.source === "node-down" ? " (node lost power)" : ""}`]);
  for (const w of report.requests.errorWindows) {
    rows.push([w.fromMs, `clients   ${w.count} failed request(s) on ${w.stream} for ${duration(w.toMs - w.fromMs)}`]);
  }
  for (const s of report.splitBrain) rows.push([s.fromMs, `split     ${s.vip} held by ${s.nodes.join(" and ")} for ${s.toMs === null ? "the rest of the run" : duration(s.toMs - s.fromMs)}`]);
  rows.sort((a, b) => a[0] - b[0]);
  const r = report.requests;
  const by = Object.entries(r.byServer)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  return [
    ...rows.map(([t, text]) => `${(t / 1000).toFixed(3).padStart(9)} s  ${text}`),
    `requests: ${r.total} sent, ${r.ok} ok, ${r.failed} failed${by ? ` (served: ${by})` : ""}`,
  ].join("\n");
}

/** A duration as people read it: "3.145 s", or "0.4 ms" for a hand-over's overlap. */
export function duration(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(3)} s` : `${ms.toFixed(1)} ms`;
}
