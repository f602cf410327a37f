import { describe, expect, it } from "vitest";
import { migrationTime } from "../checkers/migration.ts";
import { acquired, fault, history, released, request, VIP, vrrp } from "../checkers/test-history.ts";
import type { NewOp, Op } from "../history/ops.ts";
import { chartData, chooseBinMs, renderHtmlReport } from "./html.ts";
import { buildReport, type Report } from "./report.ts";

/** A literal power-off of lb1 at 5 s: lb2 takes over at 8.5 s; lb1 back on at 12 s and preempts at 15.6 s; 20 s at 200 requests/s. */
function powerOffRun(): { ops: Op[]; report: Report } {
  const raw: NewOp[] = [
    vrrp(300, "lb1", "INIT", "BACKUP"),
    vrrp(320, "lb2", "INIT", "BACKUP"),
    vrrp(3950, "lb1", "BACKUP", "MASTER"),
    acquired(3951, "lb1", "monitor"),
    fault(5000, 1, "invoke", "power-off", "lb1"),
    { ...fault(5200, 1, "ok", "power-off", "lb1"), effectAtMs: 5050 } as NewOp,
    released(5050, "lb1", "node-down"),
    vrrp(8500, "lb2", "BACKUP", "MASTER"),
    acquired(8501, "lb2"),
    fault(12_000, 2, "invoke", "power-on", "lb1"),
    { ...fault(12_400, 2, "ok", "power-on", "lb1"), effectAtMs: 12_100 } as NewOp,
    vrrp(12_900, "lb1", "INIT", "BACKUP"),
    vrrp(15_600, "lb1", "BACKUP", "MASTER"),
    acquired(15_601, "lb1"),
    released(15_602, "lb2"),
    vrrp(15_603, "lb2", "MASTER", "BACKUP"),
  ];
  for (let t = 4000; t < 20_000; t += 5) {
    const down = t >= 5050 && t < 8500;
    const lb = t < 5050 || t >= 15_602 ? "lb1" : "lb2";
    raw.push(down ? request(t, t + 1000, "timeout") : request(t, t + 1.5 + (t % 7), "ok", { lb, backend: t % 10 === 0 ? "web1" : "web2" }));
  }
  const ops = history(...raw);
  const check = migrationTime({ vip: VIP, fault: { faultId: 1 }, anchor: "effect", from: "lb1", to: "lb2", expected: { minMs: 2648.4, maxMs: 3898.4, formula: "Master_Down_Interval" } })(ops);
  const report = buildReport({ scenario: "power-off", description: "Power off lb1", startedAt: new Date("2026-01-01T00:00:00Z"), durationMs: 20_000, ops, checks: [check], figures: { migrationMs: 3451 } });
  return { ops, report };
}

describe("chooseBinMs", () => {
  it("keeps a run within 300 bins with the narrowest bin", () => {
    expect(chooseBinMs(1000)).toBe(50);
    expect(chooseBinMs(20_000)).toBe(100);
    expect(chooseBinMs(60_001)).toBe(250);
    expect(chooseBinMs(10_000_000)).toBe(10_000);
  });
});

describe("chartData", () => {
  const { ops, report } = powerOffRun();
  const data = chartData(report, ops);

  it("has one lane per load balancer with its VRRP states, OFF while powered off, and its VIP ownership", () => {
    expect(data.nodes).toEqual(["lb1", "lb2"]);
    const lb1 = data.lanes.filter((l) => l.node === "lb1" && l.row === "VRRP").map((l) => [l.state, l.fromS, l.toS]);
    expect(lb1).toEqual([
      ["BACKUP", 0.3, 3.95],
      ["MASTER", 3.95, 5.05],
      ["OFF", 5.05, 12.9],
      ["BACKUP", 12.9, 15.6],
      ["MASTER", 15.6, 20],
    ]);
    expect(data.lanes.filter((l) => l.row === "VIP").map((l) => [l.node, l.fromS, l.toS])).toEqual([
      ["lb1", 3.951, 5.05],
      ["lb2", 8.501, 15.602],
      ["lb1", 15.601, 20],
    ]);
  });

  it("marks each fault at the time it took effect", () => {
    expect(data.faults.map((f) => [f.label, f.atS])).toEqual([
      ["#1 power-off lb1", 5.05],
      ["#2 power-on lb1", 12.1],
    ]);
  });

  it("bins the requests (100 ms for 20 s) by outcome and by answering load balancer; the counts add up", () => {
    expect(data.binMs).toBe(100);
    const total = data.byOutcome.reduce((a, b) => a + b.count, 0);
    expect(total).toBe(report.requests.total);
    expect(data.byServer.reduce((a, b) => a + b.count, 0)).toBe(report.requests.total);
    expect(data.byOutcome.filter((b) => b.key === "timeout").reduce((a, b) => a + b.count, 0)).toBe(report.requests.failed);
    expect(new Set(data.byServer.map((b) => b.key))).toEqual(new Set(["lb1", "lb2", "no answer"]));
    expect(data.byOutcome.length).toBeLessThanOrEqual(2 * 200);
    expect(data.errorWindows).toHaveLength(1);
  });
});

describe("chartData with two VRRP instances and two VIPs (dual master)", () => {
  it("gives each node a sub-row per instance and per VIP", () => {
    const V2 = "10.213.0.101";
    const ops = history(
      vrrp(100, "lb1", "INIT", "MASTER", "VI_1"),
      vrrp(100, "lb1", "INIT", "BACKUP", "VI_2"),
      vrrp(110, "lb2", "INIT", "BACKUP", "VI_1"),
      vrrp(110, "lb2", "INIT", "MASTER", "VI_2"),
      acquired(101, "lb1"),
      acquired(111, "lb2", "monitor", V2),
    );
    const report = buildReport({ scenario: "dual-master", startedAt: new Date(0), durationMs: 1000, ops, checks: [], figures: {} });
    const data = chartData(report, ops);
    expect([...new Set(data.lanes.map((l) => `${l.node} ${l.row}`))].sort()).toEqual([
      "lb1 VIP 10.213.0.100",
      "lb1 VRRP VI_1",
      "lb1 VRRP VI_2",
      "lb2 VIP 10.213.0.101",
      "lb2 VRRP VI_1",
      "lb2 VRRP VI_2",
    ]);
  });
});

describe("renderHtmlReport", () => {
  it("is one self-contained page: the chart as inline SVG with the run's lanes and fault, the checks table, the data", async () => {
    const { ops, report } = powerOffRun();
    const started = performance.now();
    const html = await renderHtmlReport(report, ops);
    const ms = performance.now() - started;
    console.log(`html report: ${(html.length / 1024).toFixed(1)} KiB for ${report.requests.total} requests, rendered in ${ms.toFixed(0)} ms`);
    expect(html.startsWith("<!doctype html>")).toBe(true);
    // offline: nothing is fetched — no src/href attribute, no stylesheet link, no script from elsewhere
    expect(/\s(src|href|xlink:href)=|<link\b|@import|url\(/.exec(html)?.[0]).toBeUndefined();
    const svg = /<svg[\s\S]*?<\/svg>/.exec(html)?.[0] ?? "";
    expect(svg.length).toBeGreaterThan(1000);
    // a lane label per node, and bars that name their node
    for (const node of ["lb1", "lb2"]) {
      expect(svg).toMatch(new RegExp(`<text[^>]*>${node}</text>`));
      expect(svg).toMatch(new RegExp(`aria-label="[^"]*node: ${node}[^"]*state: MASTER`));
    }
    expect(svg).toMatch(/aria-label="[^"]*node: lb1[^"]*state: OFF/);
    expect(svg).toContain("#1 power-off lb1");
    expect(html).toMatch(/<tr class="pass"><td class="verdict">PASS<\/td><td>migration-time\(10\.213\.0\.100 lb1 → lb2, fault #1\)<\/td><td class="num">3451\.0 ms<\/td>/);
    const embedded = JSON.parse(/<script type="application\/json" id="report-json">([\s\S]*?)<\/script>/.exec(html)![1]!);
    expect(embedded).toEqual(report);
    expect(html.length).toBeLessThan(600 * 1024);
  });

  it("speaks Simplified Chinese when asked", async () => {
    const { ops, report } = powerOffRun();
    const html = await renderHtmlReport(report, ops, { lang: "zh-CN" });
    expect(html).toContain('<html lang="zh-CN">');
    expect(html).toContain("时间线");
    expect(html).toContain("自运行开始的秒数");
  });

  it("renders a run without requests or faults", async () => {
    const ops = history(vrrp(100, "lb1", "INIT", "MASTER"), acquired(101, "lb1"));
    const report = buildReport({ scenario: "idle", startedAt: new Date(0), durationMs: 1000, ops, checks: [], figures: {} });
    const html = await renderHtmlReport(report, ops);
    expect(html).toContain("UNKNOWN");
    expect(html).toMatch(/<text[^>]*>lb1<\/text>/);
  });
});
