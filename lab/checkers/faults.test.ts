import { describe, expect, it } from "vitest";
import { describeFaultRef, resolveFault } from "./faults.ts";
import { fault, faultPair, history } from "./test-history.ts";
import { Inconclusive } from "./types.ts";

const ops = history(
  ...faultPair(1000, 1, "power-off", "lb1", 40),
  ...faultPair(5000, 2, "power-on", "lb1", 900),
  ...faultPair(9000, 3, "power-off", "lb1", 40),
  fault(12_000, 4, "invoke", "kill-nginx", "lb2"),
  fault(12_010, 4, "info", "kill-nginx", "lb2", "nginx is not running: nothing to kill"),
  fault(13_000, 5, "invoke", "freeze", "lb1"),
  fault(13_005, 5, "fail", "freeze", "lb1", "container is not running"),
  fault(14_000, 6, "invoke", "block-vrrp", "lb2"),
);

function thrown(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(Inconclusive);
    return (err as Error).message;
  }
  throw new Error("expected Inconclusive");
}

describe("resolveFault", () => {
  it("finds a fault by id, anchored on invoke or ok", () => {
    expect(resolveFault(ops, { faultId: 2 }).atMs).toBe(5000);
    const ok = resolveFault(ops, { faultId: 2 }, "ok");
    expect(ok.atMs).toBe(5900);
    expect(ok.completion?.type).toBe("ok");
  });

  it("finds a fault by kind and node when unique", () => {
    expect(resolveFault(ops, { kind: "power-on", node: "lb1" }).invoke.faultId).toBe(2);
  });

  it("refuses an ambiguous kind and node, naming the candidates", () => {
    expect(thrown(() => resolveFault(ops, { kind: "power-off", node: "lb1" }))).toBe(
      "power-off lb1 is ambiguous: the history has 2 of them (fault ids 1, 3); name one by faultId or occurrence",
    );
    expect(resolveFault(ops, { kind: "power-off", node: "lb1", occurrence: 2 }).atMs).toBe(9000);
  });

  it("says which faults exist when the one asked for does not", () => {
    const msg = thrown(() => resolveFault(history(...faultPair(10, 1, "reboot", "lb2")), { kind: "power-off", node: "lb1" }));
    expect(msg).toBe("power-off lb1 is not in the history; faults in the history: #1 reboot lb2");
    expect(thrown(() => resolveFault([], { faultId: 9 }))).toBe("fault #9 is not in the history; faults in the history: none");
  });

  it("will not measure from a fault that did nothing or failed", () => {
    expect(thrown(() => resolveFault(ops, { faultId: 4 }))).toBe(
      'fault #4 (#4 kill-nginx lb2) ended with "info": nginx is not running: nothing to kill; there is nothing to measure from',
    );
    expect(thrown(() => resolveFault(ops, { faultId: 5 }))).toMatch(/ended with "fail": container is not running/);
  });

  it("measures from the invoke of a fault that never completed, but not from its ok", () => {
    expect(resolveFault(ops, { faultId: 6 }).atMs).toBe(14_000);
    expect(thrown(() => resolveFault(ops, { faultId: 6 }, "ok"))).toMatch(/never completed/);
  });

  it("describes references", () => {
    expect(describeFaultRef({ faultId: 3 })).toBe("fault #3");
    expect(describeFaultRef({ kind: "thaw", node: "lb1", occurrence: 2 })).toBe("thaw lb1 (occurrence 2)");
  });
});

describe("the effect anchor", () => {
  it("anchors on when the fault took effect in the node, else on its ok", async () => {
    const { resolveFault } = await import("./faults.ts");
    const { sortAndNumber } = await import("../history/history.ts");
    const ops = sortAndNumber([
      { process: "nemesis", f: "fault", type: "invoke", kind: "power-off", node: "lb1", faultId: 1, atMs: 100 },
      { process: "nemesis", f: "fault", type: "ok", kind: "power-off", node: "lb1", faultId: 1, atMs: 350, effectAtMs: 190 },
      { process: "nemesis", f: "fault", type: "invoke", kind: "freeze", node: "lb2", faultId: 2, atMs: 500 },
      { process: "nemesis", f: "fault", type: "ok", kind: "freeze", node: "lb2", faultId: 2, atMs: 520 },
    ]);
    expect(resolveFault(ops, { faultId: 1 }, "effect").atMs).toBe(190);
    expect(resolveFault(ops, { faultId: 1 }, "ok").atMs).toBe(350);
    expect(resolveFault(ops, { faultId: 2 }, "effect").atMs).toBe(520);
  });
});
