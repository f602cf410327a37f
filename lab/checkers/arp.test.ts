import { describe, expect, it } from "vitest";
import type { NewOp } from "../history/ops.ts";
import { arpFlips, staleArp, staleArpSpans } from "./arp.ts";
import { acquired, history, released, VIP } from "./test-history.ts";

const arp = (atMs: number, node: string | null): NewOp => ({ atMs, process: "observer", f: "arp", vip: VIP, mac: node ? `02:42:00:00:00:${node.slice(-1)}1` : null, node, state: node ? "REACHABLE" : "FAILED" });

describe("client ARP view", () => {
  // lb1 holds the VIP; it moves to lb2 at 4000 but the client keeps lb1's MAC until 4600.
  const ops = history(acquired(0, "lb1"), arp(10, "lb1"), released(3990, "lb1"), acquired(4000, "lb2"), arp(4600, "lb2"), arp(8000, "lb1"), arp(8200, "lb2"));

  it("finds the spans the client pointed at a node without the VIP while another held it", () => {
    expect(staleArpSpans(ops, VIP)).toEqual([
      { fromMs: 4000, toMs: 4600, pointedAt: "lb1", holders: ["lb2"] },
      { fromMs: 8000, toMs: 8200, pointedAt: "lb1", holders: ["lb2"] },
    ]);
  });

  it("fails stale ARP longer than the bound, with the total", () => {
    const r = staleArp({ vip: VIP, maxMs: 250 })(ops);
    expect([r.verdict, r.measured]).toEqual(["fail", 800]);
    expect(staleArp({ vip: VIP, maxMs: 600 })(ops).verdict).toBe("pass");
  });

  it("counts the client's flips between nodes", () => {
    expect(arpFlips({ vip: VIP })(ops).measured).toBe(3);
    expect(arpFlips({ vip: VIP, fromMs: 5000, min: 1 })(ops)).toMatchObject({ verdict: "pass", measured: 2 });
  });

  it("is unknown when the view was unavailable", () => {
    const off = history(acquired(0, "lb1"), { atMs: 1, process: "observer", f: "log", node: "client", daemon: "arp-observer", line: "client ARP view unavailable: the engine is not on this machine" });
    expect(staleArp({ vip: VIP, maxMs: 250 })(off).verdict).toBe("unknown");
  });
});
