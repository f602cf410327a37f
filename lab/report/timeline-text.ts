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
  for (const c of report.ipvsChanges ?? []) rows.push([c.atMs, `ipvs      ${c.node}: ${c.change}`]);
  for (const a of report.clientArp) rows.push([a.atMs, `arp       client's entry for ${a.vip}: ${a.mac === null ? "gone" : `${a.node ?? a.mac}${a.node ? ` (${a.mac})` : ""}`} ${a.state}`]);
  for (const g of garpBursts(report.garps)) rows.push([g.atMs, `garp      ${g.node ?? g.mac} announced ${g.vip}${g.count > 1 ? ` ×${g.count}` : ""}`]);
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

/** Gratuitous ARPs from one sender for one VIP less than 2 s apart, as one row (keepalived sends them in fives). */
function garpBursts(garps: Report["garps"]): Array<Report["garps"][number] & { count: number }> {
  const out: Array<Report["garps"][number] & { count: number; lastMs: number }> = [];
  for (const g of [...garps].sort((a, b) => a.atMs - b.atMs)) {
    const open = out.findLast((b) => b.mac === g.mac && b.vip === g.vip);
    if (open && g.atMs - open.lastMs < 2000) {
      open.count++;
      open.lastMs = g.atMs;
    } else out.push({ ...g, count: 1, lastMs: g.atMs });
  }
  return out.map(({ lastMs: _, ...b }) => b);
}

/** A duration as people read it: "3.145 s", or "0.4 ms" for a hand-over's overlap. */
export function duration(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(3)} s` : `${ms.toFixed(1)} ms`;
}
