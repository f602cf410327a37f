import { describe, expect, it } from "vitest";
import { effectiveOutcome, errorWindows, isFailed, maxErrors, percentile, requestSummary, zeroErrors } from "./requests.ts";
import { history, request } from "./test-history.ts";

/** A sequential client, 100 ms apart: two error runs (2 failures, then 3) split by one ok. */
const failover = history(
  request(0, 5, "ok", { lb: "lb1", backend: "web1" }),
  request(100, 104, "ok", { lb: "lb1", backend: "web2" }),
  request(200, 1200, "timeout"),
  request(1200, 1201, "refused"),
  request(1300, 1306, "ok", { lb: "lb2", backend: "web1" }),
  request(1400, 1402, "http-error", { lb: "lb2", status: 502 }),
  request(1500, 1503, "reset"),
  request(1600, 1610, "ok", { lb: "lb2", backend: "web1", status: 503 }),
  request(1700, 1708, "ok", { lb: "lb2", backend: "web2" }),
);

describe("errorWindows", () => {
  it("splits runs of failed requests at an ok request: first failed start → last failed end", () => {
    expect(errorWindows(failover)).toEqual([
      { fromMs: 200, toMs: 1201, count: 2 },
      { fromMs: 1400, toMs: 1610, count: 3 },
    ]);
  });

  it("merges windows no more than mergeGapMs apart", () => {
    expect(errorWindows(failover, { mergeGapMs: 198 })).toHaveLength(2);
    expect(errorWindows(failover, { mergeGapMs: 199 })).toEqual([{ fromMs: 200, toMs: 1610, count: 5 }]);
  });

  it("merges runs that overlap: a timeout outlasting an ok started after it", () => {
    const ops = history(
      request(0, 3000, "timeout"),
      request(100, 110, "ok"),
      request(200, 400, "refused"),
      request(3500, 3600, "ok"),
      request(4000, 4001, "error"),
    );
    expect(errorWindows(ops)).toEqual([
      { fromMs: 0, toMs: 3000, count: 2 },
      { fromMs: 4000, toMs: 4001, count: 1 },
    ]);
  });

  it("windows each stream on its own: an ok on one stream does not break another's window", () => {
    const ops = history(
      request(0, 50, "refused", { stream: "a" }),
      request(60, 70, "ok", { stream: "b" }),
      request(100, 150, "refused", { stream: "a" }),
      request(200, 210, "ok", { stream: "a" }),
      request(300, 310, "timeout", { stream: "b" }),
    );
    expect(errorWindows(ops)).toEqual([
      { fromMs: 0, toMs: 150, count: 2 },
      { fromMs: 300, toMs: 310, count: 1 },
    ]);
    expect(errorWindows(ops, { stream: "b" })).toEqual([{ fromMs: 300, toMs: 310, count: 1 }]);
  });

  it("is empty without failures, and refuses a negative gap", () => {
    expect(errorWindows(history(request(0, 1, "ok")))).toEqual([]);
    expect(() => errorWindows(failover, { mergeGapMs: -1 })).toThrow("Expected mergeGapMs to be a non-negative number, got -1");
  });
});

describe("outcomes", () => {
  it("counts 5xx as failed whatever the recorded outcome", () => {
    const [ok502] = history(request(0, 1, "ok", { status: 502 }));
    const [ok404] = history(request(0, 1, "ok", { status: 404 }));
    expect(effectiveOutcome(ok502 as never)).toBe("http-error");
    expect(isFailed(ok404 as never)).toBe(false);
  });
});

describe("requestSummary", () => {
  it("counts by outcome, server, load balancer and backend", () => {
    expect(requestSummary(failover)).toEqual({
      total: 9,
      ok: 4,
      failed: 5,
      byOutcome: { ok: 4, "http-error": 2, refused: 1, timeout: 1, reset: 1, error: 0 },
      byServer: { "lb1→web1": 1, "lb1→web2": 1, "lb2→?": 1, "lb2→web1": 2, "lb2→web2": 1 },
      byLb: { lb1: 2, lb2: 4 },
      byBackend: { web1: 3, web2: 2 },
      // ok latencies 5, 4, 6, 8 (the 503 is not ok): nearest rank ⌈0.5 × 4⌉ = 2 → 5.
      latencyMs: { p50: 5, p99: 8, max: 8 },
    });
  });

  it("is empty-safe and per stream", () => {
    expect(requestSummary(failover, "nope")).toEqual({
      total: 0,
      ok: 0,
      failed: 0,
      byOutcome: { ok: 0, "http-error": 0, refused: 0, timeout: 0, reset: 0, error: 0 },
      byServer: {},
      byLb: {},
      byBackend: {},
      latencyMs: { p50: null, p99: null, max: null },
    });
  });

  it("takes nearest-rank percentiles", () => {
    const xs = Array.from({ length: 200 }, (_, i) => i + 1);
    expect(percentile(xs, 50)).toBe(100);
    expect(percentile(xs, 99)).toBe(198);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNull();
  });
});

describe("zeroErrors / maxErrors", () => {
  it("counts failed requests by start, in a half-open window", () => {
    expect(zeroErrors()(failover)).toMatchObject({ verdict: "fail", measured: 5, unit: "count" });
    expect(zeroErrors({ fromMs: 1300, toMs: 1400 })(failover)).toMatchObject({ verdict: "pass", measured: 0 });
    expect(zeroErrors({ fromMs: 1300, toMs: 1401 })(failover)).toMatchObject({ verdict: "fail", measured: 1 });
    expect(zeroErrors({ fromMs: 1700 })(failover)).toMatchObject({ verdict: "pass", measured: 0 });
  });

  it("says where the errors were", () => {
    const r = maxErrors({ max: 4 })(failover);
    expect(r).toMatchObject({ verdict: "fail", measured: 5, expected: "at most 4 failed requests on all streams" });
    expect(r.detail).toBe("5 of 9 requests failed: 2 in [200.0 ms, 1201.0 ms]; 3 in [1400.0 ms, 1610.0 ms]");
    expect(maxErrors({ max: 5, stream: "main" })(failover).verdict).toBe("pass");
  });

  it("is unknown when the window has no request", () => {
    const r = zeroErrors({ fromMs: 5000 })(failover);
    expect(r).toMatchObject({
      verdict: "unknown",
      measured: null,
      detail: "no request on all streams, starting in [5000, end) ms: the client sent nothing to judge",
    });
    expect(zeroErrors({ stream: "other" })(failover).verdict).toBe("unknown");
  });

  it("is unknown for a nonsensical max", () => {
    expect(maxErrors({ max: -1 })(failover)).toMatchObject({
      verdict: "unknown",
      detail: "checker crashed: RangeError: Expected max to be a non-negative integer, got -1",
    });
  });
});

describe("notServedBy", () => {
  it("passes when the backend served nothing in the window and fails with the count otherwise", async () => {
    const { notServedBy } = await import("./requests.ts");
    const { History } = await import("../history/history.ts");
    const { ManualClock } = await import("../history/clock.ts");
    const h = new History(new ManualClock());
    const req = (atMs: number, backend: string, outcome: "ok" | "refused" = "ok") =>
      h.append({ process: "client", f: "request", stream: "vip", target: "t", atMs, endMs: atMs + 1, outcome, backend });
    req(10, "web1");
    req(20, "web2");
    req(30, "web1", "refused");
    req(40, "web2");
    expect(notServedBy({ backend: "web1", fromMs: 15 })(h.ops()).verdict).toBe("pass");
    const r = notServedBy({ backend: "web1" })(h.ops());
    expect([r.verdict, r.measured]).toEqual(["fail", 1]);
    expect(notServedBy({ backend: "web1", fromMs: 100 })(h.ops()).verdict).toBe("unknown");
    const { servedBy } = await import("./requests.ts");
    expect(servedBy({ backend: "web1", toMs: 15 })(h.ops()).measured).toBe(1);
    expect(servedBy({ backend: "web1", fromMs: 15 })(h.ops()).verdict).toBe("fail");
  });

  it("names the offending requests' client address and port, when the stream knows them", async () => {
    const { notServedBy } = await import("./requests.ts");
    const { History } = await import("../history/history.ts");
    const { ManualClock } = await import("../history/clock.ts");
    const h = new History(new ManualClock());
    h.append({ process: "client", f: "request", stream: "vip", target: "t", atMs: 91540.8, endMs: 91550, outcome: "ok", backend: "web2", source: "10.213.0.5", sourcePort: 53120 });
    h.append({ process: "client", f: "request", stream: "vip", target: "t", atMs: 91740.2, endMs: 91750, outcome: "ok", backend: "web2" });
    expect(notServedBy({ backend: "web2" })(h.ops()).detail).toBe("first at 91540.8 ms; 91540.8 ms from 10.213.0.5:53120, 91740.2 ms");
  });
});
