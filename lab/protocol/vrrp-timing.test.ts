import { describe, expect, it } from "vitest";
import { expectedGracefulFailover, expectedPreemption, expectedRestartOrStopFailover, expectedSilentFailover, expectedTrackScriptFailover, masterDownIntervalMs, OBSERVATION_SLACK_MS, skewTimeMs } from "./vrrp-timing.ts";

describe("VRRP timers", () => {
  it("v2 (RFC 3768): skew is (256 − priority)/256 s whatever the advert interval", () => {
    expect(skewTimeMs({ version: 2, advertIntMs: 1000, backupPriority: 90 })).toBeCloseTo(648.4375, 6);
    expect(skewTimeMs({ version: 2, advertIntMs: 2000, backupPriority: 100 })).toBeCloseTo(609.375, 6);
    expect(masterDownIntervalMs({ version: 2, advertIntMs: 1000, backupPriority: 90 })).toBeCloseTo(3648.4375, 6);
    // The tutorial with advert_int 2 and priorities 101/100: the backup (100) waits 6.609 s.
    expect(masterDownIntervalMs({ version: 2, advertIntMs: 2000, backupPriority: 100 })).toBeCloseTo(6609.375, 6);
  });

  it("v3 (RFC 5798): skew scales with the advert interval", () => {
    expect(skewTimeMs({ version: 3, advertIntMs: 100, backupPriority: 90 })).toBeCloseTo(64.84375, 6);
    expect(masterDownIntervalMs({ version: 3, advertIntMs: 100, backupPriority: 90 })).toBeCloseTo(364.84375, 6);
    expect(masterDownIntervalMs({ version: 3, advertIntMs: 1000, backupPriority: 50 })).toBeCloseTo(3804.6875, 6);
  });

  it("a silent master: the fault falls within one advert interval before the last advert's timer expires", () => {
    const w = expectedSilentFailover({ version: 2, advertIntMs: 1000, backupPriority: 90 });
    expect(w.minMs).toBeCloseTo(2648.4375 - OBSERVATION_SLACK_MS, 6);
    expect(w.maxMs).toBeCloseTo(3648.4375 + OBSERVATION_SLACK_MS, 6);
    expect(w.formula).toContain("3.648 s");
  });

  it("a graceful stop: the backup waits its skew time after the priority-0 advert", () => {
    const w = expectedGracefulFailover({ version: 2, advertIntMs: 1000, backupPriority: 90 });
    expect(w.minMs).toBeCloseTo(648.4375 - OBSERVATION_SLACK_MS, 6);
    expect(w.maxMs).toBeCloseTo(648.4375 + OBSERVATION_SLACK_MS, 6);
  });

  it("reject a priority that is not a number", () => {
    expect(() => skewTimeMs({ version: 2, advertIntMs: 1000, backupPriority: Number.NaN })).toThrow(RangeError);
  });
});

describe("preemption by a recovered node", () => {
  const v2 = { version: 2, advertIntMs: 1000, backupPriority: 100 } as const;

  it("its keepalived seen entering BACKUP: the takeover comes one Master_Down_Interval later, ± slack both ways", () => {
    const w = expectedPreemption({ ...v2, startedMs: 2300 });
    const mdi = masterDownIntervalMs(v2);
    expect(w.minMs).toBeCloseTo(2300 + mdi - OBSERVATION_SLACK_MS, 6);
    expect(w.maxMs).toBeCloseTo(2300 + mdi + OBSERVATION_SLACK_MS, 6);
    expect(w.formula).toContain("keepalived in BACKUP at 2.300 s + Master_Down_Interval 3.609 s");
  });

  it("preempt_delay only widens the upper end", () => {
    const w = expectedPreemption({ ...v2, startedMs: 1000, preemptDelayMs: 5000 });
    expect(w.minMs).toBeCloseTo(1000 + masterDownIntervalMs(v2) - OBSERVATION_SLACK_MS, 6);
    expect(w.maxMs).toBeCloseTo(1000 + masterDownIntervalMs(v2) + 5000 + OBSERVATION_SLACK_MS, 6);
  });

  it("with only an upper bound on the start, the window starts at 0", () => {
    const w = expectedPreemption({ ...v2, bootMs: 4000 });
    expect(w.minMs).toBe(0);
    expect(w.maxMs).toBeCloseTo(4000 + masterDownIntervalMs(v2) + OBSERVATION_SLACK_MS, 6);
  });
});

describe("track-script failover", () => {
  it("weight −20 (100 → 80 < 90): detection, then the backup's Master_Down_Interval", () => {
    const w = expectedTrackScriptFailover({ version: 2, advertIntMs: 1000, masterPriority: 100, backupPriority: 90, intervalMs: 1000, fall: 2, weight: -20 })!;
    expect(w.minMs).toBeCloseTo(1000 + 3648.4375 - 1000 - OBSERVATION_SLACK_MS, 6);
    expect(w.maxMs).toBeCloseTo(2000 + 3648.4375 + OBSERVATION_SLACK_MS, 6);
  });

  it("weight 0: FAULT state, priority 0, Skew_Time", () => {
    const w = expectedTrackScriptFailover({ version: 2, advertIntMs: 1000, masterPriority: 100, backupPriority: 90, intervalMs: 2000, fall: 1, weight: 0 })!;
    expect(w.minMs).toBeCloseTo(648.4375 - OBSERVATION_SLACK_MS, 6);
    expect(w.maxMs).toBeCloseTo(2000 + 648.4375 + OBSERVATION_SLACK_MS, 6);
  });

  it("a weight too small to drop below the backup means no failover", () => {
    expect(expectedTrackScriptFailover({ version: 2, advertIntMs: 1000, masterPriority: 100, backupPriority: 90, intervalMs: 2000, fall: 1, weight: -5 })).toBeUndefined();
  });

  it("the tutorials' restart-or-stop script: next run + sleep 2 + Skew_Time", () => {
    const w = expectedRestartOrStopFailover({ version: 2, advertIntMs: 1000, backupPriority: 90, intervalMs: 2000, sleepMs: 2000 });
    expect(w.minMs).toBeCloseTo(2648.4375 - OBSERVATION_SLACK_MS, 6);
    expect(w.maxMs).toBeCloseTo(4648.4375 + OBSERVATION_SLACK_MS, 6);
  });
});

describe("split brain and lossy adverts", async () => {
  const { expectedFlaps, expectedSplitBrainResolution, poissonInterval } = await import("./vrrp-timing.ts");
  it("a healed split brain resolves within one advert interval", () => {
    expect(expectedSplitBrainResolution({ advertIntMs: 1000 }).maxMs).toBe(1000 + OBSERVATION_SLACK_MS);
  });

  it("VRRPv3 at 100 ms, priority 90, half the adverts dropped for 20 s: 3 losses in a row, ≈ 12.5 flaps", () => {
    const f = expectedFlaps({ version: 3, advertIntMs: 100, backupPriority: 90, dropProbability: 0.5, durationMs: 20_000 });
    expect(f.lossesInARow).toBe(3);
    expect(f.mean).toBeCloseTo(200 / (14 + 2), 6);
    expect(f.low).toBeGreaterThanOrEqual(3);
    expect(f.high).toBeLessThanOrEqual(26);
  });

  it("Poisson intervals", () => {
    expect(poissonInterval(0.0001, 0.999)).toEqual([0, 0]);
    expect(poissonInterval(1, 0.999)).toEqual([0, 6]); // P(X ≤ 5) = 0.99941 < 0.9995
    const [lo, hi] = poissonInterval(100, 0.999);
    expect(lo).toBeGreaterThan(65);
    expect(hi).toBeLessThan(136);
  });
});
