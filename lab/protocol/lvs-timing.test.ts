import { describe, expect, it } from "vitest";
import { CHECK_DEFAULTS, expectedFirstCheckRemoval, expectedRealServerRemoval, expectedRealServerReturn, persistenceHolds, withEngineSlack } from "./lvs-timing.ts";
import { OBSERVATION_SLACK_MS } from "./vrrp-timing.ts";

// The seed's TCP_CHECK (delay_loop 6, connect_timeout 2, delay_before_retry 3) with the retry it
// really gets: its `nb_get_retry 2` is unknown inside TCP_CHECK, so keepalived keeps retry 1.
const seed = { kind: "TCP_CHECK", delayLoopMs: 6000, connectTimeoutMs: 2000, retry: CHECK_DEFAULTS.retry, delayBeforeRetryMs: 3000 } as const;

describe("real server removal (keepalived check_tcp.c / check_http.c)", () => {
  it("a refused server: retry × delay_before_retry after the next check, which comes within delay_loop", () => {
    const w = expectedRealServerRemoval(seed, "refused");
    expect(w.minMs).toBe(3000 - OBSERVATION_SLACK_MS);
    expect(w.maxMs).toBe(6000 + 3000 + OBSERVATION_SLACK_MS);
    expect(w.formula).toContain("2 failed attempts");
  });

  it("a silent server: each of the retry + 1 attempts may also wait connect_timeout", () => {
    const w = expectedRealServerRemoval({ ...seed, retry: 2 }, "silent");
    expect(w.minMs).toBe(2 * 3000 - OBSERVATION_SLACK_MS);
    expect(w.maxMs).toBe(6000 + 2 * 3000 + 3 * 2000 + OBSERVATION_SLACK_MS);
  });

  it("attempts that had already failed before the fault: the next within delay_before_retry, fewer still needed", () => {
    const once = expectedRealServerRemoval(seed, "refused", undefined, 1);
    expect(once.minMs).toBe(0);
    expect(once.maxMs).toBe(3000 + OBSERVATION_SLACK_MS);
    expect(once.formula).toContain("1 attempt(s) had already failed before the fault");
    expect(once.formula).toContain("1 more failed attempt in a row");
    const silent = expectedRealServerRemoval({ ...seed, retry: 2 }, "silent", undefined, 1);
    expect(silent.minMs).toBe(3000 - OBSERVATION_SLACK_MS);
    expect(silent.maxMs).toBe(3000 + 3000 + 2 * 2000 + OBSERVATION_SLACK_MS);
    expect(() => expectedRealServerRemoval(seed, "refused", undefined, 2)).toThrow(/failedBefore must be an integer in \[0, retry 1\]/);
  });

  it("a checker's first attempt after keepalived's start: 1 s + a warmup below delay_loop after the start, one failure is enough", () => {
    // Started 500 ms before the fault: the attempt comes in [500, 6500] ms after it, a silent one ends 2 s later at most.
    const soon = expectedFirstCheckRemoval(seed, "silent", 500);
    expect(soon.minMs).toBe(500 - OBSERVATION_SLACK_MS);
    expect(soon.maxMs).toBe(6500 + 2000 + OBSERVATION_SLACK_MS);
    expect(soon.formula).toContain("its one failure removes the server");
    // Started 6300 ms before: an attempt may be under way at the fault, so from 0.
    expect(expectedFirstCheckRemoval(seed, "silent", 6300)).toMatchObject({ minMs: 0, maxMs: 700 + 2000 + OBSERVATION_SLACK_MS });
    expect(expectedFirstCheckRemoval(seed, "refused", 6300).maxMs).toBe(700 + OBSERVATION_SLACK_MS);
    expect(() => expectedFirstCheckRemoval(seed, "silent", -1)).toThrow(/sinceStartMs/);
  });

  it("an engine's own slack is added and named", () => {
    const w = expectedRealServerRemoval(seed, "refused", { ms: 500, why: "TCG guest slack" });
    expect(w.maxMs).toBe(9000 + OBSERVATION_SLACK_MS + 500);
    expect(w.minMs).toBe(3000 - OBSERVATION_SLACK_MS - 500);
    expect(w.formula).toContain("± 500 ms TCG guest slack");
  });

  it("any window widened by an engine's slack on both ends", () => {
    const w = withEngineSlack({ minMs: 100, maxMs: 900, formula: "f" }, { ms: 300, why: "guest" });
    expect(w).toEqual({ minMs: 0, maxMs: 1200, formula: "f ± 300 ms guest" });
    expect(withEngineSlack(w, { ms: 0, why: "" })).toBe(w);
  });

  it("re-added within the longest pause of a DOWN checker and one attempt", () => {
    expect(expectedRealServerReturn(seed).maxMs).toBe(6000 + 2000 + OBSERVATION_SLACK_MS);
    expect(expectedRealServerReturn({ ...seed, delayLoopMs: 1000 }).maxMs).toBe(3000 + 2000 + OBSERVATION_SLACK_MS);
  });

  it("HTTP_GET: the first success clears the failed URL; the check delay_loop after it adds the server back", () => {
    const http = { kind: "HTTP_GET", delayLoopMs: 2000, connectTimeoutMs: 1000, retry: 1, delayBeforeRetryMs: 1000 } as const;
    const w = expectedRealServerReturn(http);
    expect(w.minMs).toBe(2000 - OBSERVATION_SLACK_MS);
    expect(w.maxMs).toBe(2000 + 1000 + 2000 + 1000 + OBSERVATION_SLACK_MS);
    expect(w.formula).toContain("clears the failed URL");
    expect(expectedRealServerReturn(seed).minMs).toBe(0);
  });

  it("defaults: retry 1, delay_before_retry 1 s for TCP_CHECK and 3 s for HTTP_GET", () => {
    expect(CHECK_DEFAULTS.retry).toBe(1);
    expect(CHECK_DEFAULTS.delayBeforeRetryMs.TCP_CHECK).toBe(1000);
    expect(CHECK_DEFAULTS.delayBeforeRetryMs.HTTP_GET).toBe(3000);
  });

  it("persistence holds while requests come closer together than the timeout", () => {
    expect(persistenceHolds(1000, 5000)).toBe(true);
    expect(persistenceHolds(6000, 5000)).toBe(false);
  });
});
