import { describe, expect, it } from "vitest";
import { Inconclusive, runCheck } from "./types.ts";

describe("runCheck", () => {
  it("names the body's result", () => {
    const r = runCheck("c", () => ({ verdict: "pass", measured: 12, expected: "≤ 20 ms", unit: "ms" }));
    expect(r).toEqual({ name: "c", verdict: "pass", measured: 12, expected: "≤ 20 ms", unit: "ms" });
  });

  it("turns a crash into unknown with the error, never a pass", () => {
    const r = runCheck(
      "c",
      () => {
        throw new TypeError("cannot read x of undefined");
      },
      { expected: "≤ 20 ms", unit: "ms" },
    );
    expect(r).toEqual({
      name: "c",
      verdict: "unknown",
      measured: null,
      expected: "≤ 20 ms",
      unit: "ms",
      detail: "checker crashed: TypeError: cannot read x of undefined",
    });
  });

  it("turns Inconclusive into unknown with its message alone", () => {
    const r = runCheck("c", () => {
      throw new Inconclusive("fault #3 is not in the history");
    });
    expect(r.verdict).toBe("unknown");
    expect(r.detail).toBe("fault #3 is not in the history");
    expect(r.expected).toBe("");
  });

  it("treats a thrown non-error as a crash", () => {
    const r = runCheck("c", () => {
      throw "boom";
    });
    expect(r.detail).toBe("checker crashed: boom");
  });

  it("does not let NaN or Infinity pass", () => {
    expect(runCheck("c", () => ({ verdict: "pass", measured: Number.NaN, expected: "" })).verdict).toBe("unknown");
    const r = runCheck("c", () => ({ verdict: "pass", measured: Infinity, expected: "" }));
    expect(r.verdict).toBe("unknown");
    expect(r.detail).toBe("checker crashed: measured must be a finite number, got Infinity");
  });

  it("rejects a verdict that is not one of the three", () => {
    const r = runCheck("c", () => ({ verdict: "ok" as never, measured: 1, expected: "" }));
    expect(r.verdict).toBe("unknown");
    expect(r.detail).toBe('checker crashed: verdict must be "pass", "fail" or "unknown", got "ok"');
  });

  it("keeps fail and unknown as the body said", () => {
    expect(runCheck("c", () => ({ verdict: "fail", measured: null, expected: "x" })).verdict).toBe("fail");
    expect(runCheck("c", () => ({ verdict: "unknown", measured: null, expected: "x" })).verdict).toBe("unknown");
  });
});
