import { describe, expect, it } from "vitest";
import { byTime, historyEndMs, requestOps, streamsIn, vipOps, vipsIn } from "./select.ts";
import { acquired, history, note, request, VIP } from "./test-history.ts";

describe("select", () => {
  it("sorts by time, keeping equal times in order", () => {
    const sorted = byTime([
      { atMs: 5, id: "a" },
      { atMs: 1, id: "b" },
      { atMs: 5, id: "c" },
    ]);
    expect(sorted.map((x) => x.id)).toEqual(["b", "a", "c"]);
  });

  it("picks VIP ops and request ops", () => {
    const ops = history(
      acquired(10, "lb1"),
      acquired(20, "lb2", "monitor", "10.213.0.101"),
      request(5, 8, "ok", { stream: "b" }),
      request(1, 2, "ok", { stream: "a" }),
      note(3, "steady"),
    );
    expect(vipOps(ops, VIP).map((o) => o.node)).toEqual(["lb1"]);
    expect(vipOps(ops)).toHaveLength(2);
    expect(vipsIn(ops)).toEqual(["10.213.0.100", "10.213.0.101"]);
    expect(requestOps(ops, "a").map((o) => o.atMs)).toEqual([1]);
    expect(streamsIn(ops)).toEqual(["a", "b"]);
  });

  it("takes the end of the history from the latest time, request ends included", () => {
    expect(historyEndMs([])).toBe(0);
    expect(historyEndMs(history(acquired(10, "lb1"), request(5, 4000, "timeout")))).toBe(4000);
    expect(historyEndMs(history(acquired(5000, "lb1"), request(5, 400, "ok")))).toBe(5000);
  });
});
