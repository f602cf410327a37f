import { describe, expect, it } from "vitest";
import { migrationTime } from "../checkers/migration.ts";
import { zeroErrors } from "../checkers/requests.ts";
import { acquired, fault, faultPair, history, released, request, VIP, vrrp } from "../checkers/test-history.ts";
import { type CheckResult, runCheck } from "../checkers/types.ts";
import { splitBrain } from "../checkers/vip.ts";
import type { NewOp } from "../history/ops.ts";
import { buildReport, REPORT_SCHEMA, reportExitCode, reportVerdict } from "./report.ts";

const ops = history(
  acquired(100.04, "lb1", "snapshot"),
  vrrp(90, "lb1", "BACKUP", "MASTER"),
  fault(1000, 1, "invoke", "freeze", "lb1"),
  { ...fault(1035.55, 1, "ok", "freeze", "lb1"), effectAtMs: 1020.04 } as NewOp,
  vrrp(3648.44, "lb2", "BACKUP", "MASTER"),
  acquired(3648.46, "lb2"),
  fault(8000, 2, "invoke", "thaw", "lb1"),
  released(8400.12, "lb2"),
  vrrp(8400.2, "lb2", "MASTER", "BACKUP"),
  fault(9000, 3, "invoke", "kill-nginx", "lb2"),
  fault(9001, 3, "info", "kill-nginx", "lb2", "nginx is not running: nothing to kill"),
  request(0, 3.21, "ok", { lb: "lb1", backend: "web1" }),
  request(900, 3900, "timeout"),
  request(3900, 3904.55, "ok", { lb: "lb2", backend: "web2" }),
  request(50, 60, "refused", { stream: "vip2" }),
);

const checks: CheckResult[] = [
  migrationTime({ vip: VIP, fault: { faultId: 1 }, from: "lb1", to: "lb2", expected: { minMs: 2000, maxMs: 3900, formula: "f" } })(ops),
  splitBrain({ vip: VIP, expected: true })(ops),
  zeroErrors({ stream: "main", fromMs: 3900 })(ops),
];

const report = buildReport({
  scenario: "freeze-master",
  description: "Freeze lb1; lb2 takes over; thaw",
  startedAt: new Date("2025-03-01T10:00:00.000Z"),
  durationMs: 10_000.04,
  ops,
  checks,
  figures: { migrationMs: 2648.4567, errorWindowMs: null, moves: 2, lossRatio: 0.012345, badMs: Number.NaN },
});

describe("buildReport", () => {
  it("has the schema's header", () => {
    expect(report.schema).toBe(REPORT_SCHEMA);
    expect(report.schema).toBe("failover-lab/report@1");
    expect(report.scenario).toBe("freeze-master");
    expect(report.description).toBe("Freeze lb1; lb2 takes over; thaw");
    expect(report.startedAt).toBe("2025-03-01T10:00:00.000Z");
    expect(report.durationMs).toBe(10_000);
    expect(report.verdict).toBe("pass");
    expect(Object.keys(report)).toEqual([
      "schema",
      "scenario",
      "description",
      "startedAt",
      "durationMs",
      "verdict",
      "checks",
      "faults",
      "vipEvents",
      "vrrpTransitions",
      "splitBrain",
      "clientArp",
      "garps",
      "ipvsChanges",
      "requests",
      "nacos",
      "figures",
    ]);
  });

  it("copies the checks, rounding measured milliseconds to 0.1", () => {
    // 3648.46 − 1000 = 2648.46 → 2648.5; split brain 8400.12 − 3648.46 = 4751.66 → 4751.7.
    expect(report.checks.map((c) => [c.name, c.verdict, c.measured, c.unit])).toEqual([
      [`migration-time(${VIP} lb1 → lb2, fault #1)`, "pass", 2648.5, "ms"],
      [`split-brain(${VIP})`, "pass", 4751.7, "ms"],
      ["zero-errors(on stream main, starting in [3900, end) ms)", "pass", 0, "count"],
    ]);
    expect(report.checks[0]!.expected).toBe("within [2000.0, 3900.0] ms of the fault's invoke: f");
  });

  it("lists each fault once, from its invoke, with its outcome", () => {
    expect(report.faults).toEqual([
      { faultId: 1, kind: "freeze", node: "lb1", atMs: 1000, outcome: "ok", completedAtMs: 1035.6, effectAtMs: 1020 },
      { faultId: 2, kind: "thaw", node: "lb1", atMs: 8000, outcome: null, completedAtMs: null, effectAtMs: null },
      {
        faultId: 3,
        kind: "kill-nginx",
        node: "lb2",
        atMs: 9000,
        outcome: "info",
        completedAtMs: 9001,
        effectAtMs: null,
        detail: "nginx is not running: nothing to kill",
      },
    ]);
  });

  it("lists VIP events and VRRP transitions in time order, rounded", () => {
    expect(report.vipEvents).toEqual([
      { node: "lb1", vip: VIP, event: "acquired", atMs: 100, source: "snapshot" },
      { node: "lb2", vip: VIP, event: "acquired", atMs: 3648.5, source: "monitor" },
      { node: "lb2", vip: VIP, event: "released", atMs: 8400.1, source: "monitor" },
    ]);
    expect(report.vrrpTransitions).toEqual([
      { node: "lb1", instance: "VI_1", from: "BACKUP", to: "MASTER", atMs: 90 },
      { node: "lb2", instance: "VI_1", from: "BACKUP", to: "MASTER", atMs: 3648.4 },
      { node: "lb2", instance: "VI_1", from: "MASTER", to: "BACKUP", atMs: 8400.2 },
    ]);
  });

  it("lists split-brain spans of every VIP", () => {
    expect(report.splitBrain).toEqual([{ vip: VIP, fromMs: 3648.5, toMs: 8400.1, nodes: ["lb1", "lb2"] }]);
    const open = buildReport({ ...input(), ops: history(acquired(0, "lb1"), acquired(5, "lb2")) });
    expect(open.splitBrain).toEqual([{ vip: VIP, fromMs: 5, toMs: null, nodes: ["lb1", "lb2"] }]);
  });

  it("summarises requests over all streams, with error windows per stream", () => {
    expect(report.requests).toEqual({
      streams: ["main", "vip2"],
      total: 4,
      ok: 2,
      failed: 2,
      byStream: { main: { total: 3, ok: 2, failed: 1 }, vip2: { total: 1, ok: 0, failed: 1 } },
      errorWindows: [
        { stream: "vip2", fromMs: 50, toMs: 60, count: 1 },
        { stream: "main", fromMs: 900, toMs: 3900, count: 1 },
      ],
      byOutcome: { ok: 2, "http-error": 0, refused: 1, timeout: 1, reset: 0, error: 0 },
      byServer: { "lb1→web1": 1, "lb2→web2": 1 },
      byLb: { lb1: 1, lb2: 1 },
      byBackend: { web1: 1, web2: 1 },
      latencyMs: { p50: 3.2, p99: 4.6, max: 4.6 },
    });
  });

  it("rounds figures named …Ms, passes others, and nulls what JSON cannot hold", () => {
    expect(report.figures).toEqual({ migrationMs: 2648.5, errorWindowMs: null, moves: 2, lossRatio: 0.012345, badMs: null });
  });

  it("is plain JSON", () => {
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  it("refuses a bad duration or start", () => {
    expect(() => buildReport({ ...input(), durationMs: -1 })).toThrow("Expected durationMs to be a non-negative number, got -1");
    expect(() => buildReport({ ...input(), startedAt: new Date("nope") })).toThrow(/valid Date/);
  });

  it("has a null description when none is given, and empty sections for an empty history", () => {
    const r = buildReport({ ...input(), ops: [], checks: [] });
    expect(r.description).toBeNull();
    expect(r.verdict).toBe("unknown");
    expect(r.faults).toEqual([]);
    expect(r.requests.total).toBe(0);
    expect(r.requests.latencyMs).toEqual({ p50: null, p99: null, max: null });
    expect(r.nacos).toBeNull();
  });

  it("summarises the Nacos workload's calls, with rounded error windows", () => {
    const nacos = (atMs: number, endMs: number, operation: "publish" | "get-config", outcome: "ok" | "timeout", extra: Record<string, unknown> = {}): NewOp =>
      ({ process: "client", f: "nacos", atMs, endMs, operation, outcome, key: "lab-0", ...extra }) as NewOp;
    const r = buildReport({
      ...input(),
      ops: history(
        nacos(0, 4.04, "publish", "ok", { lb: "lb1", member: "nacos1", value: "lab-0=1" }),
        nacos(100.04, 2100.06, "publish", "timeout"),
        nacos(2200, 2204, "get-config", "ok", { lb: "lb2", member: "nacos2", triedFirst: ["nacos3"] }),
        nacos(3000, 3003, "get-config", "ok", { lb: "lb2", member: "nacos1", phase: "final" }),
      ),
    });
    expect(r.nacos).toEqual({
      total: 4,
      ok: 3,
      failed: 1,
      byOperation: { final: { total: 1, ok: 1, failed: 0 }, "get-config": { total: 1, ok: 1, failed: 0 }, publish: { total: 2, ok: 1, failed: 1 } },
      byOutcome: { ok: 3, timeout: 1 },
      byMember: { nacos1: 2, nacos2: 1 },
      byLb: { lb1: 1, lb2: 2 },
      routedAround: 1,
      errorWindows: [{ fromMs: 100, toMs: 2100.1, count: 1 }],
    });
  });
});

describe("verdict and exit code", () => {
  const c = (verdict: CheckResult["verdict"]) => ({ verdict });

  it("fails if any check fails, else is unknown if any is unknown or there are none", () => {
    expect(reportVerdict([c("pass"), c("unknown"), c("fail")])).toBe("fail");
    expect(reportVerdict([c("pass"), c("unknown")])).toBe("unknown");
    expect(reportVerdict([c("pass"), c("pass")])).toBe("pass");
    expect(reportVerdict([])).toBe("unknown");
  });

  it("exits 0 only on pass", () => {
    expect(reportExitCode({ verdict: "pass" })).toBe(0);
    expect(reportExitCode({ verdict: "fail" })).toBe(1);
    expect(reportExitCode({ verdict: "unknown" })).toBe(1);
  });

  it("turns a crashed checker into an unknown report, and a failed one into a failed report", () => {
    const crashed = runCheck("crashes", () => {
      throw new TypeError("boom");
    });
    const unknown = buildReport({ ...input(), checks: [checks[1]!, crashed] });
    expect(unknown.verdict).toBe("unknown");
    expect(unknown.checks[1]).toEqual({ name: "crashes", verdict: "unknown", measured: null, expected: "", detail: "checker crashed: TypeError: boom" });
    expect(reportExitCode(unknown)).toBe(1);
    const never = migrationTime({ vip: VIP, fault: { faultId: 1 }, to: "lb2", expected: { minMs: 0, maxMs: 1, formula: "f" } })(
      history(acquired(0, "lb1"), ...faultPair(10, 1, "power-off", "lb1"), released(10, "lb1", "node-down")),
    );
    const failed = buildReport({ ...input(), checks: [crashed, never] });
    expect(never).toMatchObject({ verdict: "fail", measured: null });
    expect(failed.verdict).toBe("fail");
    expect(reportExitCode(failed)).toBe(1);
  });
});

function input() {
  return { scenario: "s", startedAt: new Date(0), durationMs: 1, ops, checks, figures: {} };
}
