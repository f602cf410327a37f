import { describe, expect, it } from "vitest";
import { acquired, history, note, released, request, VIP } from "./test-history.ts";
import { exactlyOneOwner, ownerFaults, ownerIs, splitBrain, splitBrainSpans, vipMoveList, vipMoves } from "./vip.ts";

/** lb1 holds from 100; powered off at 2000 (node-down); lb2 takes over at 5000; history ends at 10000. */
const cleanFailover = history(
  acquired(100, "lb1", "snapshot"),
  acquired(120, "lb2", "snapshot", "10.213.0.101"),
  released(2000, "lb1", "node-down"),
  acquired(5000, "lb2"),
  note(10_000, "end"),
);

/** lb1 frozen at 2000 keeps the address; lb2 grabs it at 5000; thaw at 8000, lb2 lets go at 8400. */
const frozen = history(acquired(100, "lb1"), acquired(5000, "lb2"), released(8400, "lb2"), note(10_000, "end"));

describe("exactlyOneOwner", () => {
  it("throughout: measures the time without exactly one owner after the first acquisition", () => {
    const r = exactlyOneOwner({ vip: VIP, window: "throughout" })(cleanFailover);
    expect(r.verdict).toBe("fail");
    expect(r.measured).toBe(3000);
    expect(r.unit).toBe("ms");
    expect(r.detail).toBe("1 run without exactly one owner: [2000.0 ms, 5000.0 ms) none");
  });

  it("throughout: tolerates runs up to graceMs", () => {
    expect(exactlyOneOwner({ vip: VIP, window: "throughout", graceMs: 3000 })(cleanFailover).verdict).toBe("pass");
    const r = exactlyOneOwner({ vip: VIP, window: "throughout", graceMs: 2999.9 })(cleanFailover);
    expect(r.verdict).toBe("fail");
    expect(r.measured).toBe(3000);
  });

  it("throughout: counts two owners, and joins a gap followed by two owners into one run", () => {
    const r = exactlyOneOwner({ vip: VIP, window: "throughout" })(frozen);
    expect(r.measured).toBe(3400);
    const ops = history(acquired(100, "lb1"), released(1000, "lb1"), acquired(1500, "lb1"), acquired(1500, "lb2"), released(1800, "lb2"));
    const faults = exactlyOneOwner({ vip: VIP, window: "throughout", graceMs: 700 })(ops);
    expect(faults.measured).toBe(800);
    expect(faults.verdict).toBe("fail");
    expect(faults.detail).toBe("1 run without exactly one owner (1 longer than 700 ms): [1000.0 ms, 1800.0 ms) none then lb1+lb2");
  });

  it("throughout: passes with one owner all along, including re-attach snapshots", () => {
    const ops = history(acquired(100, "lb1"), acquired(4000, "lb1", "snapshot"), request(200, 9000, "ok"));
    const r = exactlyOneOwner({ vip: VIP, window: "throughout" })(ops);
    expect(r).toMatchObject({ verdict: "pass", measured: 0 });
  });

  it("throughout: fails with measured null when the VIP was never acquired", () => {
    const r = exactlyOneOwner({ vip: "10.213.0.200", window: "throughout" })(cleanFailover);
    expect(r).toMatchObject({ verdict: "fail", measured: null, detail: "10.213.0.200 was never acquired by any node" });
  });

  it("window: counts time before the first op as no owner, and cuts at the end of the history", () => {
    const r = exactlyOneOwner({ vip: VIP, window: { fromMs: 0, toMs: 20_000 } })(cleanFailover);
    expect(r.measured).toBe(100 + 3000);
    const inside = exactlyOneOwner({ vip: VIP, window: { fromMs: 5000, toMs: 9000 } })(cleanFailover);
    expect(inside).toMatchObject({ verdict: "pass", measured: 0 });
  });

  it("window: unknown when it lies after the history or is empty", () => {
    expect(exactlyOneOwner({ vip: VIP, window: { fromMs: 10_000, toMs: 12_000 } })(cleanFailover).verdict).toBe("unknown");
    const r = exactlyOneOwner({ vip: VIP, window: { fromMs: 500, toMs: 500 } })(cleanFailover);
    expect(r).toMatchObject({ verdict: "unknown", detail: "the window must end after it starts, got [500, 500)" });
  });

  it("end: reports the owners when the history ends", () => {
    expect(exactlyOneOwner({ vip: VIP, window: "end" })(cleanFailover)).toMatchObject({
      verdict: "pass",
      measured: "lb2",
      unit: "node",
    });
    const split = history(acquired(100, "lb1"), acquired(200, "lb2"));
    expect(exactlyOneOwner({ vip: VIP, window: "end" })(split)).toMatchObject({ verdict: "fail", measured: "lb1+lb2" });
    expect(exactlyOneOwner({ vip: "10.9.9.9", window: "end" })(split)).toMatchObject({ verdict: "fail", measured: "none" });
  });

  it("merges adjacent bad steps into runs", () => {
    expect(
      ownerFaults([
        { fromMs: 0, toMs: 10, owners: ["lb1"] },
        { fromMs: 10, toMs: 20, owners: [] },
        { fromMs: 20, toMs: 30, owners: ["lb1", "lb2"] },
        { fromMs: 30, toMs: 40, owners: ["lb2"] },
        { fromMs: 40, toMs: 45, owners: [] },
      ]),
    ).toEqual([
      { fromMs: 10, toMs: 30, owners: ["none", "lb1+lb2"] },
      { fromMs: 40, toMs: 45, owners: ["none"] },
    ]);
  });
});

describe("ownerIs", () => {
  it("checks the only owner at the end or at a time", () => {
    expect(ownerIs({ vip: VIP, node: "lb2", at: "end" })(cleanFailover)).toMatchObject({ verdict: "pass", measured: "lb2" });
    expect(ownerIs({ vip: VIP, node: "lb1", at: "end" })(cleanFailover)).toMatchObject({ verdict: "fail", measured: "lb2" });
    expect(ownerIs({ vip: VIP, node: "lb1", at: 1999 })(cleanFailover).verdict).toBe("pass");
    expect(ownerIs({ vip: VIP, node: "lb1", at: 2000 })(cleanFailover)).toMatchObject({ verdict: "fail", measured: "none" });
  });

  it("fails when the node shares the VIP (split brain)", () => {
    expect(ownerIs({ vip: VIP, node: "lb1", at: 6000 })(frozen)).toMatchObject({ verdict: "fail", measured: "lb1+lb2" });
    expect(ownerIs({ vip: VIP, node: "lb1", at: 9000 })(frozen).verdict).toBe("pass");
  });

  it("is unknown after the end of the history", () => {
    const r = ownerIs({ vip: VIP, node: "lb2", at: 10_001 })(cleanFailover);
    expect(r).toMatchObject({ verdict: "unknown", detail: "10001 ms is after the history ends (10000.0 ms)" });
  });
});

describe("splitBrain", () => {
  it("lists spans with two or more owners", () => {
    expect(splitBrainSpans(frozen, VIP)).toEqual([{ vip: VIP, fromMs: 5000, toMs: 8400, nodes: ["lb1", "lb2"] }]);
    expect(splitBrainSpans(cleanFailover, VIP)).toEqual([]);
  });

  it("merges adjacent spans and keeps an open one open", () => {
    const events = [acquired(0, "lb1"), acquired(10, "lb2"), acquired(20, "lb3"), released(30, "lb1"), released(40, "lb3"), acquired(50, "lb1")];
    const ops = history(...events);
    expect(splitBrainSpans(ops, VIP)).toEqual([
      { vip: VIP, fromMs: 10, toMs: 40, nodes: ["lb1", "lb2", "lb3"] },
      { vip: VIP, fromMs: 50, toMs: null, nodes: ["lb1", "lb2"] },
    ]);
    const r = splitBrain({ vip: VIP, expected: false })(history(...events, note(90, "end")));
    expect(r).toMatchObject({ verdict: "fail", measured: 30 + 40 });
    expect(r.detail).toBe("2 spans: [10.0 ms, 40.0 ms) lb1+lb2+lb3; [50.0 ms, end) lb1+lb2");
  });

  it("passes or fails by what the scenario expects", () => {
    expect(splitBrain({ vip: VIP, expected: false })(frozen)).toMatchObject({ verdict: "fail", measured: 3400 });
    expect(splitBrain({ vip: VIP, expected: true })(frozen)).toMatchObject({ verdict: "pass", measured: 3400 });
    expect(splitBrain({ vip: VIP, expected: false })(cleanFailover)).toMatchObject({ verdict: "pass", measured: 0 });
    expect(splitBrain({ vip: VIP, expected: true })(cleanFailover)).toMatchObject({ verdict: "fail", measured: 0 });
  });
});

describe("vipMoves", () => {
  /** lb1 → lb2 → lb1 → lb2 → lb1: flapping. */
  const flapping = history(
    acquired(0, "lb1"),
    released(1000, "lb1"),
    acquired(1100, "lb2"),
    released(2000, "lb2"),
    acquired(2050, "lb1"),
    acquired(3000, "lb2"),
    released(3010, "lb1"),
    acquired(4000, "lb1"),
    released(4000, "lb2"),
  );

  it("counts holder changes, not the first acquisition", () => {
    expect(vipMoveList(flapping, VIP).map((m) => `${m.from}>${m.to}@${m.atMs}`)).toEqual([
      "lb1>lb2@1100",
      "lb2>lb1@2050",
      "lb1>lb2@3000",
      "lb2>lb1@4000",
    ]);
    const r = vipMoves({ vip: VIP })(flapping);
    expect(r).toMatchObject({ verdict: "fail", measured: 4, unit: "count" });
  });

  it("counts within a window and against max", () => {
    expect(vipMoves({ vip: VIP, fromMs: 1100, toMs: 3000 })(flapping)).toMatchObject({ verdict: "fail", measured: 2 });
    expect(vipMoves({ vip: VIP, fromMs: 1101, toMs: 3000 })(flapping)).toMatchObject({ verdict: "pass", measured: 1 });
    expect(vipMoves({ vip: VIP, max: 4 })(flapping).verdict).toBe("pass");
    expect(vipMoves({ vip: VIP })(cleanFailover)).toMatchObject({ verdict: "pass", measured: 1 });
    expect(vipMoves({ vip: VIP, max: 0 })(cleanFailover)).toMatchObject({ verdict: "fail", measured: 1 });
  });

  it("is unknown for an empty window", () => {
    expect(vipMoves({ vip: VIP, fromMs: 10, toMs: 5 })(flapping).verdict).toBe("unknown");
  });
});

describe("splitBrain in a window", async () => {
  const { splitBrain } = await import("./vip.ts");
  const { acquired, history, released, VIP } = await import("./test-history.ts");
  it("ignores spans outside the window and clips the others", () => {
    const ops = history(acquired(0, "lb2"), acquired(5, "lb1"), released(12, "lb2"), acquired(100, "lb2"), released(400, "lb2"));
    expect(splitBrain({ vip: VIP, expected: false, fromMs: 50 })(ops)).toMatchObject({ verdict: "fail", measured: 300 });
    expect(splitBrain({ vip: VIP, expected: false, fromMs: 20, toMs: 90 })(ops)).toMatchObject({ verdict: "pass", measured: 0 });
    expect(splitBrain({ vip: VIP, expected: true, fromMs: 150, toMs: 250 })(ops)).toMatchObject({ verdict: "pass", measured: 100 });
  });
});
