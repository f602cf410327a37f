import { describe, expect, it } from "vitest";
import { acquired, fault, released, request, VIP, vrrp } from "../checkers/test-history.ts";
import type { NewOp } from "../history/ops.ts";
import { formatStatusLine, LiveState } from "./live-state.ts";
import { StatusLine } from "./status-line.ts";

function play(ops: NewOp[]): LiveState {
  const state = new LiveState(["lb1", "lb2"], [VIP]);
  for (const op of ops) state.apply(op);
  return state;
}

describe("LiveState", () => {
  it("follows VIP owners, VRRP states and power as ops arrive", () => {
    const state = play([
      vrrp(100, "lb1", "INIT", "MASTER"),
      vrrp(110, "lb2", "INIT", "BACKUP"),
      acquired(101, "lb1"),
      fault(2000, 1, "invoke", "power-off", "lb1"),
      fault(2100, 1, "ok", "power-off", "lb1"),
      released(2050, "lb1", "node-down"),
      vrrp(5000, "lb2", "BACKUP", "MASTER"),
      acquired(5001, "lb2"),
    ]);
    const s = state.snapshot(6000);
    expect(s.owners).toEqual({ [VIP]: ["lb2"] });
    expect(s.nodes.map((n) => [n.name, n.power, n.states.VI_1, n.vips])).toEqual([
      ["lb1", "off", "MASTER", []],
      ["lb2", "on", "MASTER", [VIP]],
    ]);
    expect(s.faults).toEqual([{ faultId: 1, label: "#1 power-off lb1", atMs: 2000, outcome: "ok" }]);
  });

  it("counts requests, the rate over the last second by end, errors, and bins recent ones", () => {
    const ops: NewOp[] = [];
    for (let t = 0; t < 3000; t += 10) ops.push(t >= 1000 && t < 1500 ? request(t, t + 1000, "timeout") : request(t, t + 2, "ok", { lb: t < 1000 ? "lb1" : "lb2" }));
    const s = play(ops).snapshot(3000);
    // completions in (2000, 3000]: 100 ok, and the 49 timeouts started in (1000, 1500) ending 1 s later
    expect(s.requests).toEqual({ total: 300, ok: 250, failed: 50, perSecond: 149, lastLb: "lb2" });
    expect(s.recent[0]).toEqual({ atMs: 0, ok: 25, failed: 0, byLb: { lb1: 25 } });
    expect(s.recent.find((b) => b.atMs === 1000)).toEqual({ atMs: 1000, ok: 0, failed: 25, byLb: {} });
    expect(s.recent.length).toBe(12);
  });
});

describe("formatStatusLine", () => {
  it("names each node's state and VIP, the rate and the errors, and fits the terminal", () => {
    const s = play([vrrp(100, "lb1", "INIT", "MASTER"), vrrp(110, "lb2", "INIT", "BACKUP"), acquired(101, "lb1"), request(900, 905, "ok", { lb: "lb1" }), request(950, 1950, "timeout")]).snapshot(2000);
    expect(formatStatusLine(s)).toBe("lb1 MASTER ●VIP │ lb2 BACKUP │ 1 req/s │ 1 failed of 2 │ 2.0 s");
    expect(formatStatusLine(s, 20)).toBe("lb1 MASTER ●VIP │ l…");
  });
});

describe("StatusLine", () => {
  it("draws in place on a TTY and keeps other output whole", () => {
    const out: string[] = [];
    const tty = { isTTY: true, columns: 80, write: (t: string) => out.push(t) > 0 };
    const line = new StatusLine(tty);
    line.set("lb1 MASTER");
    line.print(tty, "step\n");
    line.clear();
    expect(out.join("")).toBe("\r\x1b[2Klb1 MASTER\r\x1b[2Kstep\n\r\x1b[2Klb1 MASTER\r\x1b[2K");
  });

  it("prints nothing extra when the stream is not a terminal", () => {
    const out: string[] = [];
    const pipe = { write: (t: string) => out.push(t) > 0 };
    const line = new StatusLine(pipe);
    line.set("lb1 MASTER");
    line.print(pipe, "step\n");
    expect(out).toEqual(["step\n"]);
  });
});
