import { describe, expect, it } from "vitest";
import { expectedSilentFailover } from "../protocol/vrrp-timing.ts";
import { firstSuccessByNewOwner, migrationTime } from "./migration.ts";
import { acquired, fault, faultPair, history, released, request, VIP } from "./test-history.ts";

/** A window with round numbers, so the assertions below are exact; real scenarios use vrrp-timing.ts. */
const WINDOW = { minMs: 2000, maxMs: 3500, formula: "test window" };

/** lb1 powered off at 1000 (ok at 1040); lb2 takes the VIP at 4000. */
const failover = history(
  acquired(100, "lb1", "snapshot"),
  ...faultPair(1000, 7, "power-off", "lb1", 40),
  released(1040, "lb1", "node-down"),
  acquired(4000, "lb2"),
  request(900, 910, "ok", { lb: "lb1", backend: "web1" }),
  request(1100, 4100, "timeout"),
  request(4100, 4105, "ok", { lb: "lb2", backend: "web2" }),
  request(4200, 4203, "ok", { lb: "lb2", backend: "web1" }),
);

describe("migrationTime", () => {
  it("measures fault invoke → first acquisition on the new owner", () => {
    const r = migrationTime({ vip: VIP, fault: { faultId: 7 }, from: "lb1", to: "lb2", expected: WINDOW })(failover);
    expect(r).toEqual({
      name: `migration-time(${VIP} lb1 → lb2, fault #7)`,
      verdict: "pass",
      measured: 3000,
      expected: "within [2000.0, 3500.0] ms of the fault's invoke: test window",
      unit: "ms",
      detail: `#7 power-off lb1 (invoke at 1000.0 ms); lb2 acquired ${VIP} at 4000.0 ms; lb1 released it at 1040.0 ms (+40.0 ms)`,
    });
  });

  it("measures from the ok when asked", () => {
    const r = migrationTime({ vip: VIP, fault: { kind: "power-off", node: "lb1" }, to: "lb2", anchor: "ok", expected: WINDOW })(failover);
    expect(r.measured).toBe(2960);
  });

  it("fails outside the window, on either side", () => {
    expect(migrationTime({ vip: VIP, fault: { faultId: 7 }, to: "lb2", expected: { ...WINDOW, maxMs: 2999 } })(failover)).toMatchObject({
      verdict: "fail",
      measured: 3000,
    });
    expect(migrationTime({ vip: VIP, fault: { faultId: 7 }, to: "lb2", expected: { ...WINDOW, minMs: 3001 } })(failover).verdict).toBe(
      "fail",
    );
  });

  it("takes its expectation from the protocol, formula included", () => {
    const expected = expectedSilentFailover({ version: 2, advertIntMs: 1000, backupPriority: 90 });
    const r = migrationTime({ vip: VIP, fault: { faultId: 7 }, to: "lb2", expected })(failover);
    // Master_Down_Interval = 3 s + (256 − 90)/256 s = 3648.4 ms; window [2648.4, 3648.4] ± 250 ms slack.
    expect(r.verdict).toBe("pass");
    expect(r.expected).toMatch(/^within \[2398\.4, 3898\.4\] ms of the fault's invoke: Master_Down_Interval/);
  });

  it("fails with measured null when the VIP never reaches the new owner", () => {
    const ops = history(acquired(100, "lb1"), ...faultPair(1000, 7, "power-off", "lb1"), released(1040, "lb1", "node-down"));
    const r = migrationTime({ vip: VIP, fault: { faultId: 7 }, from: "lb1", to: "lb2", expected: WINDOW })(ops);
    expect(r).toMatchObject({ verdict: "fail", measured: null });
    expect(r.detail).toBe(`lb2 never acquired ${VIP} after #7 power-off lb1 (invoke at 1000.0 ms); lb1 released it at 1040.0 ms (+40.0 ms)`);
  });

  it("is unknown when the fault is not in the history", () => {
    const r = migrationTime({ vip: VIP, fault: { kind: "freeze", node: "lb1" }, to: "lb2", expected: WINDOW })(failover);
    expect(r).toMatchObject({
      verdict: "unknown",
      measured: null,
      expected: "within [2000.0, 3500.0] ms of the fault's invoke: test window",
      detail: "freeze lb1 is not in the history; faults in the history: #7 power-off lb1",
    });
  });

  it("is unknown when the fault did nothing", () => {
    const ops = history(
      acquired(100, "lb1"),
      fault(1000, 7, "invoke", "kill-nginx", "lb1"),
      fault(1005, 7, "info", "kill-nginx", "lb1", "nginx is not running: nothing to kill"),
    );
    expect(migrationTime({ vip: VIP, fault: { faultId: 7 }, to: "lb2", expected: WINDOW })(ops).verdict).toBe("unknown");
  });

  it("is unknown when the new owner already held the VIP, or the old one did not", () => {
    const split = history(acquired(100, "lb1"), acquired(200, "lb2"), ...faultPair(1000, 7, "power-off", "lb1"), acquired(1200, "lb2", "snapshot"));
    const r = migrationTime({ vip: VIP, fault: { faultId: 7 }, to: "lb2", expected: WINDOW })(split);
    expect(r.verdict).toBe("unknown");
    expect(r.detail).toMatch(/^lb2 already held 10\.213\.0\.100 before #7 power-off lb1 \(invoke at 1000\.0 ms\) \(owners: lb1\+lb2\)/);
    const wrongFrom = migrationTime({ vip: VIP, fault: { faultId: 7 }, from: "lb3", to: "lb2", expected: WINDOW })(failover);
    expect(wrongFrom.verdict).toBe("unknown");
    expect(wrongFrom.detail).toMatch(/^lb3 did not hold/);
  });

  it("measures a failover that re-attach snapshots and node-down releases surround", () => {
    const ops = history(
      acquired(100, "lb1", "snapshot"),
      acquired(500, "lb1", "snapshot"),
      ...faultPair(1000, 1, "reboot", "lb1"),
      released(1001, "lb1", "node-down"),
      acquired(3650, "lb2"),
      acquired(6000, "lb2", "snapshot"),
    );
    expect(migrationTime({ vip: VIP, fault: { faultId: 1 }, from: "lb1", to: "lb2", expected: WINDOW })(ops).measured).toBe(2650);
  });
});

describe("firstSuccessByNewOwner", () => {
  it("measures fault → the end of the first ok request through the new owner", () => {
    const r = firstSuccessByNewOwner({ fault: { faultId: 7 }, lb: "lb2", expected: WINDOW })(failover);
    expect(r).toMatchObject({ verdict: "pass", measured: 3105 });
    expect(r.detail).toBe("#7 power-off lb1 (invoke at 1000.0 ms); first ok through lb2→web2: request at 4100.0 ms, answered at 4105.0 ms");
    const narrow = firstSuccessByNewOwner({ fault: { faultId: 7 }, lb: "lb2", expected: { ...WINDOW, maxMs: 3104.9 } })(failover);
    expect(narrow).toMatchObject({ verdict: "fail", measured: 3105 });
  });

  it("passes on any success without an expected window", () => {
    const r = firstSuccessByNewOwner({ stream: "main", fault: { faultId: 7 }, lb: "lb2" })(failover);
    expect(r).toMatchObject({ verdict: "pass", measured: 3105, expected: "a request served by lb2 succeeds after the fault's invoke" });
  });

  it("takes the earliest answer, not the earliest start, and ignores 5xx", () => {
    const ops = history(
      ...faultPair(1000, 1, "power-off", "lb1"),
      request(1010, 4500, "ok", { lb: "lb2" }),
      request(3000, 3010, "ok", { lb: "lb2", status: 502 }),
      request(3100, 3120, "ok", { lb: "lb2" }),
    );
    expect(firstSuccessByNewOwner({ fault: { faultId: 1 }, lb: "lb2" })(ops).measured).toBe(2120);
  });

  it("fails with measured null when the new owner never serves", () => {
    const ops = history(...faultPair(1000, 1, "power-off", "lb1"), request(1100, 1200, "refused"), request(1300, 1310, "ok", { lb: "lb1" }));
    const r = firstSuccessByNewOwner({ fault: { faultId: 1 }, lb: "lb2" })(ops);
    expect(r).toMatchObject({ verdict: "fail", measured: null, detail: "none of the 2 requests after #1 power-off lb1 (invoke at 1000.0 ms) succeeded through lb2" });
  });

  it("is unknown when the client sent nothing after the fault, or on another stream", () => {
    expect(firstSuccessByNewOwner({ fault: { faultId: 7 }, lb: "lb2", stream: "other" })(failover).verdict).toBe("unknown");
    expect(firstSuccessByNewOwner({ fault: { faultId: 9 }, lb: "lb2" })(failover).verdict).toBe("unknown");
  });
});
