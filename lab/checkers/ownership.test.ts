import { describe, expect, it } from "vitest";
import {
  clipTimeline,
  closedTimeline,
  formatOwners,
  holderChanges,
  ownersAt,
  ownersBefore,
  ownershipIntervals,
  ownerTimeline,
} from "./ownership.ts";
import { acquired, history, released, request, VIP } from "./test-history.ts";

const OTHER = "10.213.0.101";

describe("ownershipIntervals", () => {
  it("pairs acquisitions with releases per node, leaving held VIPs open", () => {
    const ops = history(acquired(100, "lb1", "snapshot"), released(1000, "lb1"), acquired(1200, "lb2"));
    expect(ownershipIntervals(ops, VIP)).toEqual([
      { node: "lb1", vip: VIP, fromMs: 100, toMs: 1000 },
      { node: "lb2", vip: VIP, fromMs: 1200, toMs: null },
    ]);
  });

  it("ignores a snapshot's re-reported acquisition after a re-attach", () => {
    const ops = history(acquired(100, "lb1", "snapshot"), acquired(5000, "lb1", "snapshot"), released(7000, "lb1"));
    expect(ownershipIntervals(ops, VIP)).toEqual([{ node: "lb1", vip: VIP, fromMs: 100, toMs: 7000 }]);
  });

  it("closes an interval on a node-down release", () => {
    const ops = history(acquired(100, "lb1"), released(2000, "lb1", "node-down"), acquired(2500, "lb1", "snapshot"));
    expect(ownershipIntervals(ops, VIP)).toEqual([
      { node: "lb1", vip: VIP, fromMs: 100, toMs: 2000 },
      { node: "lb1", vip: VIP, fromMs: 2500, toMs: null },
    ]);
  });

  it("ignores a release for a VIP the node never held", () => {
    const ops = history(released(50, "lb2"), acquired(100, "lb1"), released(200, "lb2", "node-down"));
    expect(ownershipIntervals(ops, VIP)).toEqual([{ node: "lb1", vip: VIP, fromMs: 100, toMs: null }]);
  });

  it("keeps VIPs apart, and lists all of them without a VIP", () => {
    const ops = history(acquired(100, "lb1"), acquired(150, "lb2", "monitor", OTHER), released(300, "lb1", "monitor", OTHER));
    expect(ownershipIntervals(ops, OTHER)).toEqual([{ node: "lb2", vip: OTHER, fromMs: 150, toMs: null }]);
    expect(ownershipIntervals(ops).map((i) => `${i.vip}@${i.node}`)).toEqual([`${VIP}@lb1`, `${OTHER}@lb2`]);
  });

  it("reads ops in time order even when given out of order", () => {
    const ops = [released(1000, "lb1"), acquired(100, "lb1")].map((op, index) => ({ ...op, index }) as never);
    expect(ownershipIntervals(ops, VIP)).toEqual([{ node: "lb1", vip: VIP, fromMs: 100, toMs: 1000 }]);
  });
});

describe("ownerTimeline", () => {
  it("is a step function from the first op, with overlapping ownership as two owners", () => {
    const ops = history(acquired(100, "lb1"), acquired(900, "lb2"), released(1300, "lb1"), released(2000, "lb2"));
    expect(ownerTimeline(ops, VIP)).toEqual([
      { fromMs: 100, toMs: 900, owners: ["lb1"] },
      { fromMs: 900, toMs: 1300, owners: ["lb1", "lb2"] },
      { fromMs: 1300, toMs: 2000, owners: ["lb2"] },
      { fromMs: 2000, toMs: null, owners: [] },
    ]);
  });

  it("applies events of the same millisecond together: no gap, no double owner", () => {
    const ops = history(acquired(100, "lb1"), acquired(500, "lb2"), released(500, "lb1"));
    expect(ownerTimeline(ops, VIP)).toEqual([
      { fromMs: 100, toMs: 500, owners: ["lb1"] },
      { fromMs: 500, toMs: null, owners: ["lb2"] },
    ]);
  });

  it("does not split a step on an ignored duplicate", () => {
    const ops = history(acquired(100, "lb1"), acquired(400, "lb1", "snapshot"), released(450, "lb3"));
    expect(ownerTimeline(ops, VIP)).toEqual([{ fromMs: 100, toMs: null, owners: ["lb1"] }]);
  });

  it("is empty without ops for the VIP", () => {
    expect(ownerTimeline(history(acquired(100, "lb1", "monitor", OTHER)), VIP)).toEqual([]);
  });

  it("answers who held it at a time, and just before it", () => {
    const tl = ownerTimeline(history(acquired(100, "lb1"), released(500, "lb1"), acquired(700, "lb2")), VIP);
    expect(ownersAt(tl, 50)).toEqual([]);
    expect(ownersAt(tl, 100)).toEqual(["lb1"]);
    expect(ownersAt(tl, 500)).toEqual([]);
    expect(ownersBefore(tl, 500)).toEqual(["lb1"]);
    expect(ownersBefore(tl, 100)).toEqual([]);
    expect(ownersAt(tl, 10_000)).toEqual(["lb2"]);
    expect(ownersBefore(tl, 10_000)).toEqual(["lb2"]);
  });

  it("clips to a window, with unknown time before the first op as no owner", () => {
    const tl = ownerTimeline(history(acquired(100, "lb1"), released(500, "lb1")), VIP);
    expect(clipTimeline(tl, 0, 300)).toEqual([
      { fromMs: 0, toMs: 100, owners: [] },
      { fromMs: 100, toMs: 300, owners: ["lb1"] },
    ]);
    expect(clipTimeline(tl, 400, 900)).toEqual([
      { fromMs: 400, toMs: 500, owners: ["lb1"] },
      { fromMs: 500, toMs: 900, owners: [] },
    ]);
    expect(clipTimeline([], 0, 10)).toEqual([{ fromMs: 0, toMs: 10, owners: [] }]);
    expect(clipTimeline(tl, 10, 10)).toEqual([]);
  });

  it("closes the last step at the end of the history", () => {
    const ops = history(acquired(100, "lb1"), request(200, 3000, "ok"));
    expect(closedTimeline(ops, VIP)).toEqual([{ fromMs: 100, toMs: 3000, owners: ["lb1"] }]);
    expect(closedTimeline(ops, OTHER)).toEqual([]);
  });

  it("formats owner sets", () => {
    expect(formatOwners([])).toBe("none");
    expect(formatOwners(["lb1", "lb2"])).toBe("lb1+lb2");
  });
});

describe("holderChanges", () => {
  const moves = (...ops: Parameters<typeof history>) =>
    holderChanges(history(...ops), VIP).map((c) => `${c.atMs}:${c.from ?? "-"}>${c.to}`);

  it("counts a failover through a gap once", () => {
    expect(moves(acquired(100, "lb1"), released(1000, "lb1", "node-down"), acquired(3000, "lb2"))).toEqual([
      "100:->lb1",
      "3000:lb1>lb2",
    ]);
  });

  it("counts an overlapping hand-over once", () => {
    expect(moves(acquired(100, "lb1"), acquired(900, "lb2"), released(950, "lb1"))).toEqual(["100:->lb1", "900:lb1>lb2"]);
  });

  it("counts a blip on the same node as no move", () => {
    expect(moves(acquired(100, "lb1"), released(500, "lb1"), acquired(600, "lb1"))).toEqual(["100:->lb1"]);
  });

  it("counts a grab from a frozen master and its return on thaw as two", () => {
    expect(moves(acquired(100, "lb1"), acquired(3000, "lb2"), released(9000, "lb2"))).toEqual([
      "100:->lb1",
      "3000:lb1>lb2",
      "9000:lb2>lb1",
    ]);
  });

  it("ignores a re-reported acquisition", () => {
    expect(moves(acquired(100, "lb1"), acquired(3000, "lb2"), acquired(5000, "lb1", "snapshot"))).toEqual([
      "100:->lb1",
      "3000:lb1>lb2",
    ]);
  });
});
