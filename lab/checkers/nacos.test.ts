import { describe, expect, it } from "vitest";
import type { NacosOp, NewOp } from "../history/ops.ts";
import {
  acceptableFinalValues,
  mayHaveApplied,
  nacosErrorWindows,
  nacosMaxErrors,
  nacosMemberState,
  nacosNoLostWrites,
  nacosNotServedBy,
  nacosOps,
  nacosOutage,
  nacosRecovery,
  nacosServedBy,
  nacosStoredWrites,
  nacosSummary,
} from "./nacos.ts";
import { fault, faultPair, history } from "./test-history.ts";

type Extra = Partial<Omit<NacosOp, "index" | "atMs" | "endMs" | "process" | "f" | "operation" | "outcome">>;

function call(atMs: number, endMs: number, operation: NacosOp["operation"], outcome: NacosOp["outcome"] = "ok", extra: Extra = {}): NewOp {
  return { process: "client", f: "nacos", atMs, endMs, operation, outcome, ...extra };
}
const ok = (atMs: number, operation: NacosOp["operation"], extra: Extra = {}) => call(atMs, atMs + 5, operation, "ok", { status: 200, lb: "lb1", member: "nacos1", ...extra });
const view = (atMs: number, member: string, states: Record<string, string>, lb = "lb2") => call(atMs, atMs + 5, "cluster-nodes", "ok", { status: 200, lb, member, members: states });
const UP3 = { nacos1: "UP", nacos2: "UP", nacos3: "UP" };

describe("nacos error windows and summary", () => {
  const ops = history(
    ok(0, "publish", { key: "lab-0", value: "lab-0=1" }),
    call(100, 2100, "publish", "timeout", { key: "lab-1", value: "lab-1=2" }),
    call(150, 2150, "get-config", "timeout", { key: "lab-1" }),
    ok(2200, "get-config", { key: "lab-1", lb: "lb2", member: "nacos2", triedFirst: ["nacos3"] }),
    call(2300, 2310, "beat", "http-error", { status: 502, lb: "lb2" }),
    ok(2400, "cluster-nodes", { lb: "lb2", member: "nacos2", members: UP3 }),
    call(3000, 3001, "get-config", "ok", { key: "lab-0", phase: "final", found: true, value: "lab-0=1" }),
  );

  it("windows runs of failed calls, split at an ok call", () => {
    expect(nacosErrorWindows(nacosOps(ops, { includeFinal: false }))).toEqual([
      { fromMs: 100, toMs: 2150, count: 2 },
      { fromMs: 2300, toMs: 2310, count: 1 },
    ]);
  });

  it("summarises by operation, outcome, member and load balancer; final reads apart", () => {
    const s = nacosSummary(ops);
    expect(s).toMatchObject({ total: 7, ok: 4, failed: 3, routedAround: 1 });
    expect(s.byOperation).toEqual({
      beat: { total: 1, ok: 0, failed: 1 },
      "cluster-nodes": { total: 1, ok: 1, failed: 0 },
      final: { total: 1, ok: 1, failed: 0 },
      "get-config": { total: 2, ok: 1, failed: 1 },
      publish: { total: 2, ok: 1, failed: 1 },
    });
    expect(s.byOutcome).toEqual({ "http-error": 1, ok: 4, timeout: 2 });
    expect(s.byMember).toEqual({ nacos1: 1, nacos2: 2 });
    expect(s.byLb).toEqual({ lb1: 1, lb2: 3 });
    expect(s.errorWindows).toHaveLength(2);
  });

  it("counts failed calls in a window", () => {
    expect(nacosMaxErrors({ max: 0, fromMs: 2200 })(ops)).toMatchObject({ verdict: "fail", measured: 1 });
    expect(nacosMaxErrors({ max: 0, fromMs: 2350 })(ops)).toMatchObject({ verdict: "pass", measured: 0 });
    expect(nacosMaxErrors({ max: 5 })(ops)).toMatchObject({ verdict: "pass", measured: 3 });
    expect(nacosMaxErrors({ max: 0, fromMs: 9000 })(ops).verdict).toBe("unknown");
  });
});

describe("nacosRecovery", () => {
  const expected = { maxMs: 6000, formula: "Master_Down_Interval + slack + the call's timeout" };
  const ops = history(
    ok(900, "list"),
    ...faultPair(1000, 1, "power-off", "lb1", 50),
    call(1010, 3010, "publish", "timeout"),
    call(1020, 3020, "list", "timeout"),
    call(3020, 5020, "list", "timeout"),
    ok(5030, "list", { lb: "lb2", member: "nacos3" }),
  );

  it("measures the fault → the end of the first ok call through the new owner", () => {
    const r = nacosRecovery({ fault: { faultId: 1 }, anchor: "invoke", lb: "lb2", expected })(ops);
    expect(r).toMatchObject({ verdict: "pass", measured: 4035, unit: "ms" });
    expect(r.detail).toContain("3 calls failed in between");
  });

  it("fails when the first success comes too late, or never", () => {
    expect(nacosRecovery({ fault: { faultId: 1 }, anchor: "invoke", lb: "lb2", expected: { ...expected, maxMs: 4000 } })(ops).verdict).toBe("fail");
    expect(nacosRecovery({ fault: { faultId: 1 }, anchor: "invoke", lb: "lb9", expected })(ops)).toMatchObject({ verdict: "fail", measured: null });
  });

  it("is unknown when the fault is not in the history", () => {
    expect(nacosRecovery({ fault: { faultId: 7 }, expected })(ops).verdict).toBe("unknown");
  });
});

describe("nacosMemberState", () => {
  const down = { maxMs: 17_000, formula: "4 probes × 4 s + 1 s" };
  const v = (atMs: number, node: string, states: Record<string, string>): NewOp => ({ process: "observer", f: "nacos-view", node, atMs, endMs: atMs + 100, members: states });
  const ops = history(
    ...faultPair(10_000, 2, "kill-nacos", "nacos3", 30),
    v(11_000, "nacos1", UP3),
    v(11_000, "nacos2", UP3),
    v(12_000, "nacos2", { ...UP3, nacos3: "SUSPICIOUS" }),
    v(18_000, "nacos1", { ...UP3, nacos3: "SUSPICIOUS" }),
    v(19_000, "nacos1", { ...UP3, nacos3: "DOWN" }),
    v(20_000, "nacos2", { ...UP3, nacos3: "DOWN" }),
    v(28_000, "nacos1", { ...UP3, nacos3: "DOWN" }),
    v(29_000, "nacos2", { ...UP3, nacos3: "DOWN" }),
    { process: "observer", f: "nacos-view", node: "nacos3", atMs: 25_000, endMs: 25_010, error: "curl exited 7" } as NewOp,
    ...faultPair(30_000, 3, "start-nacos", "nacos3", 15_000),
    v(45_500, "nacos3", UP3),
    v(46_000, "nacos1", { ...UP3, nacos3: "DOWN" }),
    v(46_000, "nacos2", { ...UP3, nacos3: "DOWN" }),
    v(47_000, "nacos1", { ...UP3, nacos3: "DOWN" }),
    v(48_000, "nacos2", UP3),
    v(49_000, "nacos1", UP3),
    v(55_000, "nacos1", UP3),
    v(56_000, "nacos2", UP3),
  );

  it("passes when every peer's view turns DOWN in time and stays so, measuring the last peer's", () => {
    const r = nacosMemberState({ member: "nacos3", state: "DOWN", fault: { faultId: 2 }, anchor: "invoke", untilMs: 30_000, expected: down })(ops);
    expect(r).toMatchObject({ verdict: "pass", measured: 10_100 });
    expect(r.detail).toContain("nacos1 between 8000.0 ms (SUSPICIOUS) and 9100.0 ms; nacos2 between 2000.0 ms (SUSPICIOUS) and 10100.0 ms");
  });

  it("fails when a peer still showed otherwise after the deadline", () => {
    const r = nacosMemberState({ member: "nacos3", state: "DOWN", fault: { faultId: 2 }, anchor: "invoke", untilMs: 30_000, expected: { ...down, maxMs: 5000 } })(ops);
    expect(r.verdict).toBe("fail");
    expect(r.detail).toContain("nacos1 still showed SUSPICIOUS at 8000.0 ms");
  });

  it("measures the rejoin from the restart's ok, ignoring the member's own view", () => {
    const r = nacosMemberState({ member: "nacos3", state: "UP", fault: { faultId: 3 }, anchor: "ok", expected: { maxMs: 5000, formula: "one probe" } })(ops);
    expect(r).toMatchObject({ verdict: "pass", measured: 4100 });
    expect(nacosMemberState({ member: "nacos3", state: "UP", fault: { faultId: 3 }, anchor: "ok", expected: { maxMs: 1500, formula: "x" } })(ops).verdict).toBe("fail");
  });

  it("fails when a peer flips back, and is unknown when the views end before the deadline", () => {
    const flap = history(...ops.filter((o) => o.atMs < 30_000).map(({ index: _, ...o }) => o as NewOp), v(29_500, "nacos2", UP3));
    expect(nacosMemberState({ member: "nacos3", state: "DOWN", fault: { faultId: 2 }, anchor: "invoke", expected: down })(flap).detail).toContain("nacos2 showed UP again at 19500.0 ms");
    expect(nacosMemberState({ member: "nacos3", state: "UP", fault: { faultId: 3 }, anchor: "ok", untilMs: 47_500, expected: { maxMs: 5000, formula: "x" } })(ops).verdict).toBe("unknown");
  });
});

describe("nacos routing", () => {
  const ops = history(
    fault(1000, 1, "invoke", "kill-nacos", "nacos3"),
    ok(1100, "get-config", { member: "nacos1", triedFirst: ["nacos3"] }),
    ok(1200, "get-config", { member: "nacos2" }),
    ok(5000, "get-config", { member: "nacos3" }),
  );
  it("checks that nginx routes around a member, and sends to it again later", () => {
    expect(nacosNotServedBy({ member: "nacos3", fromMs: 1000, toMs: 4000 })(ops)).toMatchObject({ verdict: "pass", measured: 0 });
    expect(nacosNotServedBy({ member: "nacos3", fromMs: 1000 })(ops)).toMatchObject({ verdict: "fail", measured: 1 });
    expect(nacosServedBy({ member: "nacos3", fromMs: 4000 })(ops)).toMatchObject({ verdict: "pass", measured: 1 });
    expect(nacosServedBy({ member: "nacos3", fromMs: 1000, toMs: 4000 })(ops).verdict).toBe("fail");
    expect(nacosServedBy({ operation: "server-check" })(ops).verdict).toBe("unknown");
  });
});

describe("no acknowledged write lost", () => {
  const pub = (atMs: number, key: string, value: string, outcome: NacosOp["outcome"] = "ok", extra: Extra = {}) => call(atMs, atMs + 10, "publish", outcome, { key, value, ...extra });
  const final = (atMs: number, key: string, value: string | undefined, extra: Extra = {}) =>
    call(atMs, atMs + 5, "get-config", "ok", { key, phase: "final", status: value === undefined ? 404 : 200, found: value !== undefined, ...(value !== undefined ? { value } : {}), member: "nacos2", ...extra });

  it("accepts the last acknowledged value, or a later write whose outcome is unknown", () => {
    const ops = history(pub(0, "a", "a=1"), pub(100, "a", "a=2"), pub(200, "a", "a=3", "timeout"), pub(300, "a", "a=4", "refused"), pub(400, "a", "a=5", "http-error", { status: 400 }));
    const nacosCalls = ops.filter((o): o is NacosOp => o.f === "nacos");
    expect([...acceptableFinalValues(nacosCalls).get("a")!]).toEqual(["a=2", "a=3"]);
    expect(mayHaveApplied(nacosCalls[2]!)).toBe(true);
    expect(mayHaveApplied(nacosCalls[3]!)).toBe(false);
    expect(mayHaveApplied(nacosCalls[4]!)).toBe(false);
  });

  it("passes when every acknowledged dataId reads back its value", () => {
    const ops = history(pub(0, "a", "a=1"), pub(10, "b", "b=2"), pub(20, "a", "a=3", "timeout"), final(100, "a", "a=3"), final(101, "b", "b=1"), final(150, "b", "b=2"));
    expect(nacosNoLostWrites()(ops)).toMatchObject({ verdict: "pass", measured: 0 });
  });

  it("fails on a missing config or an older value, naming them", () => {
    const ops = history(pub(0, "a", "a=1"), pub(10, "a", "a=2"), pub(20, "b", "b=3"), final(100, "a", "a=1"), final(101, "b", undefined));
    const r = nacosNoLostWrites()(ops);
    expect(r).toMatchObject({ verdict: "fail", measured: 2 });
    expect(r.detail).toContain('a: read "a=1" from nacos2, expected a=2');
    expect(r.detail).toContain("b: not found");
  });

  it("is unknown when a dataId was not read back, or nothing was acknowledged", () => {
    expect(nacosNoLostWrites()(history(pub(0, "a", "a=1"), call(100, 2100, "get-config", "timeout", { key: "a", phase: "final" }))).verdict).toBe("unknown");
    expect(nacosNoLostWrites()(history(pub(0, "a", "a=1", "timeout"))).verdict).toBe("unknown");
  });
});

describe("nacos windows over several operations", () => {
  it("counts failed calls of the given operations only", () => {
    const ops = history(call(0, 10, "beat", "http-error", { status: 400 }), call(5, 15, "publish", "ok"), call(20, 30, "get-config", "timeout"));
    expect(nacosMaxErrors({ max: 0, operation: ["publish", "get-config"] })(ops)).toMatchObject({ verdict: "fail", measured: 1 });
    expect(nacosMaxErrors({ max: 0, operation: "publish" })(ops)).toMatchObject({ verdict: "pass", measured: 0 });
    expect(nacosMaxErrors({ max: 0, operation: ["publish", "get-config"] })(ops).expected).toContain("publish/get-config calls");
  });
});

describe("nacosStoredWrites", () => {
  const ops = history(call(0, 10, "publish", "ok", { key: "a", value: "a=1" }), call(20, 30, "publish", "ok", { key: "b", value: "b=2" }), call(40, 2040, "publish", "timeout", { key: "b", value: "b=3" }));
  it("finds every acknowledged write in the storage", () => {
    expect(nacosStoredWrites({ stored: new Map([["a", "a=1"], ["b", "b=3"]]), storage: "MariaDB" })(ops)).toMatchObject({ verdict: "pass", measured: 0 });
    const r = nacosStoredWrites({ stored: new Map([["b", "b=1"]]), storage: "MariaDB" })(ops);
    expect(r).toMatchObject({ verdict: "fail", measured: 2 });
    expect(r.detail).toContain("a: absent");
    expect(r.detail).toContain('b: "b=1", expected b=2 or b=3');
  });
});

describe("nacosOutage", () => {
  const expected = { maxMs: 17_000, formula: "election + route refresh" };
  const ops = history(
    ...faultPair(1000, 1, "kill-nacos", "nacos3", 100),
    call(1200, 1300, "publish", "http-error", { status: 500 }),
    call(1500, 1600, "get-config", "ok"),
    call(8000, 9200, "publish", "http-error", { status: 500 }),
    call(9300, 9400, "publish", "ok"),
  );
  it("measures the fault → the end of the last failed call of the operation", () => {
    expect(nacosOutage({ fault: { faultId: 1 }, operation: "publish", expected })(ops)).toMatchObject({ verdict: "pass", measured: 8100 });
    expect(nacosOutage({ fault: { faultId: 1 }, operation: "publish", expected: { ...expected, maxMs: 5000 } })(ops).verdict).toBe("fail");
    expect(nacosOutage({ fault: { faultId: 1 }, operation: "get-config", expected })(ops)).toMatchObject({ verdict: "pass", measured: 0 });
    expect(nacosOutage({ fault: { faultId: 1 }, operation: "beat", expected })(ops).verdict).toBe("unknown");
  });
});
