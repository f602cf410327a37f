import { describe, expect, it } from "vitest";
import type { NewOp } from "../history/ops.ts";
import { beliefs, intruders, logQuote, splitBrainResolution } from "./split-brain.ts";
import { acquired, faultPair, history, released, VIP, vrrp } from "./test-history.ts";

const window = { minMs: 0, maxMs: 1250, formula: "next advert" };
const log = (atMs: number, node: string, line: string): NewOp => ({ atMs, process: "observer", f: "log", node, daemon: "keepalived", line });

describe("splitBrainResolution", () => {
  const ops = history(
    acquired(100, "lb1"),
    ...faultPair(1000, 1, "block-vrrp", "lb1"),
    acquired(3700, "lb2"),
    ...faultPair(9000, 2, "unblock-vrrp", "lb1"),
    released(9120, "lb2"),
  );

  it("measures from the heal to one owner again", () => {
    const r = splitBrainResolution({ vip: VIP, heal: { faultId: 2 }, expected: window })(ops);
    expect([r.verdict, r.measured]).toEqual(["pass", 110]);
    expect(r.detail).toContain("lb1+lb2 → lb1");
  });

  it("fails when it never resolves, and is unknown when there was nothing to resolve", () => {
    const never = history(acquired(100, "lb1"), ...faultPair(1000, 1, "block-vrrp", "lb1"), acquired(3700, "lb2"), ...faultPair(9000, 2, "unblock-vrrp", "lb1"));
    expect(splitBrainResolution({ vip: VIP, heal: { faultId: 2 }, expected: window })(never)).toMatchObject({ verdict: "fail", measured: null });
    const calm = history(acquired(100, "lb1"), ...faultPair(9000, 2, "unblock-vrrp", "lb1"));
    expect(splitBrainResolution({ vip: VIP, heal: { faultId: 2 }, expected: window })(calm).verdict).toBe("unknown");
  });
});

describe("intruders", () => {
  const ops = history(acquired(100, "lb1"), acquired(5000, "rogue"), released(5001, "lb1"), released(9000, "rogue"), acquired(12000, "lb1"));
  it("names the node that held the VIP without being a member", () => {
    const r = intruders({ vip: VIP, members: ["lb1", "lb2"], expected: ["rogue"] })(ops);
    expect([r.verdict, r.measured]).toEqual(["pass", "rogue"]);
    expect(r.detail).toContain("rogue held it from 5000.0 ms to 9000.0 ms");
    expect(intruders({ vip: VIP, members: ["lb1", "lb2"], expected: [] })(ops).verdict).toBe("fail");
  });
});

describe("beliefs", () => {
  const ops = history(
    vrrp(100, "lb1", "INIT", "MASTER"),
    vrrp(100, "lb2", "INIT", "BACKUP"),
    vrrp(3700, "lb2", "BACKUP", "MASTER"),
    log(4000, "lb1", "(VI_1) received lower priority (90) advert from 10.213.0.12 - discarding"),
  );
  it("reads each node's state at a moment and explains it from its log", () => {
    const r = beliefs({ instance: "VI_1", atMs: 5000, expected: { lb1: "MASTER", lb2: "MASTER" } })(ops);
    expect([r.verdict, r.measured]).toEqual(["pass", "lb1=MASTER, lb2=MASTER"]);
    expect(r.detail).toContain('lb1: last said "(VI_1) received lower priority (90) advert');
    expect(r.detail).toContain("lb2: said nothing notable");
    expect(beliefs({ instance: "VI_1", atMs: 2000, expected: { lb1: "MASTER", lb2: "MASTER" } })(ops).verdict).toBe("fail");
  });
});

describe("logQuote", () => {
  it("quotes the line keepalived logged", () => {
    const ops = history(log(700, "lb1", "(VI_1) received an invalid passwd!"));
    expect(logQuote({ node: "lb1", pattern: "invalid passwd" })(ops)).toMatchObject({ verdict: "pass", measured: "(VI_1) received an invalid passwd!" });
    expect(logQuote({ node: "lb2", pattern: "invalid passwd" })(ops).verdict).toBe("fail");
  });
});
