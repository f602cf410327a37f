import { describe, expect, it } from "vitest";
import { expectedPreemption } from "../protocol/vrrp-timing.ts";
import { noPreemption, preemption } from "./preemption.ts";
import { acquired, fault, faultPair, history, note, released, VIP } from "./test-history.ts";

const WINDOW = { minMs: 0, maxMs: 5000, formula: "test window" };

/** lb1 powered off at 1000, lb2 takes over at 4600, lb1 powered on at 10000 and preempts at 13000. */
const preempting = history(
  acquired(100, "lb1"),
  ...faultPair(1000, 1, "power-off", "lb1"),
  released(1000, "lb1", "node-down"),
  acquired(4600, "lb2"),
  ...faultPair(10_000, 2, "power-on", "lb1", 800),
  acquired(13_000, "lb1"),
  released(13_000, "lb2"),
  note(20_000, "end"),
);

/** Same, with nopreempt: lb1 comes back as backup, lb2 keeps the VIP. */
const staying = history(
  acquired(100, "lb1"),
  ...faultPair(1000, 1, "power-off", "lb1"),
  released(1000, "lb1", "node-down"),
  acquired(4600, "lb2"),
  ...faultPair(10_000, 2, "power-on", "lb1", 800),
  acquired(12_000, "lb2", "snapshot"),
  note(20_000, "end"),
);

describe("preemption", () => {
  it("measures recovery → the original master alone holds the VIP", () => {
    const r = preemption({ vip: VIP, node: "lb1", recovery: { kind: "power-on", node: "lb1" }, expected: WINDOW })(preempting);
    expect(r).toEqual({
      name: `preemption(${VIP} → lb1, power-on lb1)`,
      verdict: "pass",
      measured: 3000,
      expected: "within [0.0, 5000.0] ms of the recovery's invoke: test window",
      unit: "ms",
      detail: `#2 power-on lb1 (invoke at 10000.0 ms); lb1 acquired ${VIP} at 13000.0 ms; only owner from 13000.0 ms (before: lb2)`,
    });
    expect(preemption({ vip: VIP, node: "lb1", recovery: { faultId: 2 }, anchor: "ok", expected: WINDOW })(preempting).measured).toBe(2200);
  });

  it("fails outside the protocol's window", () => {
    const expected = expectedPreemption({ version: 2, advertIntMs: 1000, backupPriority: 100 });
    // keepalived start 0 + Master_Down_Interval 3609.4 + 250 slack = 3859.4 ≥ 3000: pass; with less, fail.
    expect(preemption({ vip: VIP, node: "lb1", recovery: { faultId: 2 }, expected })(preempting).verdict).toBe("pass");
    const tight = { ...expected, maxMs: 2999 };
    expect(preemption({ vip: VIP, node: "lb1", recovery: { faultId: 2 }, expected: tight })(preempting)).toMatchObject({
      verdict: "fail",
      measured: 3000,
    });
  });

  it("after a thaw, counts the survivor's release: the frozen master never lost the address", () => {
    const thawed = history(
      acquired(100, "lb1"),
      ...faultPair(1000, 1, "freeze", "lb1"),
      acquired(4600, "lb2"),
      ...faultPair(8000, 2, "thaw", "lb1"),
      released(8400, "lb2"),
    );
    expect(preemption({ vip: VIP, node: "lb1", recovery: { faultId: 2 }, expected: WINDOW })(thawed)).toMatchObject({
      verdict: "pass",
      measured: 400,
      detail: `#2 thaw lb1 (invoke at 8000.0 ms); lb1 did not acquire ${VIP}; only owner from 8400.0 ms (before: lb1+lb2)`,
    });
  });

  it("fails with measured null when the VIP never comes back, or stays shared", () => {
    const r = preemption({ vip: VIP, node: "lb1", recovery: { faultId: 2 }, expected: WINDOW })(staying);
    expect(r).toMatchObject({
      verdict: "fail",
      measured: null,
      detail: `lb1 never became the only owner after #2 power-on lb1 (invoke at 10000.0 ms): lb1 did not acquire ${VIP}; owners at the end: lb2`,
    });
    const shared = history(acquired(100, "lb2"), ...faultPair(1000, 2, "power-on", "lb1"), acquired(3000, "lb1"));
    expect(preemption({ vip: VIP, node: "lb1", recovery: { faultId: 2 }, expected: WINDOW })(shared)).toMatchObject({
      verdict: "fail",
      measured: null,
    });
  });

  it("is unknown when the recovery is missing or failed, or the node never lost the VIP", () => {
    expect(preemption({ vip: VIP, node: "lb1", recovery: { kind: "thaw", node: "lb1" }, expected: WINDOW })(preempting).verdict).toBe(
      "unknown",
    );
    const failed = history(acquired(100, "lb2"), fault(1000, 2, "invoke", "power-on", "lb1"), fault(1100, 2, "fail", "power-on", "lb1", "no such container"));
    expect(preemption({ vip: VIP, node: "lb1", recovery: { faultId: 2 }, expected: WINDOW })(failed).verdict).toBe("unknown");
    const never = history(acquired(100, "lb1"), ...faultPair(1000, 2, "start-keepalived", "lb1"));
    expect(preemption({ vip: VIP, node: "lb1", recovery: { faultId: 2 }, expected: WINDOW })(never)).toMatchObject({
      verdict: "unknown",
      detail: `lb1 was already the only owner of ${VIP} before #2 start-keepalived lb1 (invoke at 1000.0 ms); nothing to preempt`,
    });
  });
});

describe("noPreemption", () => {
  it("passes when the survivor keeps the VIP (re-attach snapshots included)", () => {
    expect(noPreemption({ vip: VIP, node: "lb2", after: { faultId: 2 } })(staying)).toMatchObject({
      verdict: "pass",
      measured: 0,
      unit: "count",
      detail: `lb2 kept ${VIP} over [10000.0 ms, 20000.0 ms)`,
    });
  });

  it("fails on the original master's acquisition and the survivor's release", () => {
    const r = noPreemption({ vip: VIP, node: "lb2", after: { faultId: 2 } })(preempting);
    expect(r).toMatchObject({ verdict: "fail", measured: 2, detail: "lb2 released it at 13000.0 ms; lb1 acquired it at 13000.0 ms" });
  });

  it("stops at untilMs", () => {
    expect(noPreemption({ vip: VIP, node: "lb2", after: { faultId: 2 }, untilMs: 13_000 })(preempting)).toMatchObject({
      verdict: "pass",
      measured: 0,
    });
    expect(noPreemption({ vip: VIP, node: "lb2", after: { faultId: 2 }, untilMs: 9000 })(preempting).verdict).toBe("unknown");
  });

  it("fails with measured null when the survivor did not hold the VIP at the recovery", () => {
    expect(noPreemption({ vip: VIP, node: "lb3", after: { faultId: 2 } })(staying)).toMatchObject({
      verdict: "fail",
      measured: null,
      detail: "lb3 did not hold 10.213.0.100 at #2 power-on lb1 (invoke at 10000.0 ms) (owners: lb2)",
    });
  });

  it("is unknown when the recovery is not in the history", () => {
    expect(noPreemption({ vip: VIP, node: "lb2", after: { kind: "thaw", node: "lb1" } })(staying).verdict).toBe("unknown");
  });
});
