import { describe, expect, it } from "vitest";
import { expectedStaleArpBound } from "./neighbour.ts";
import { OBSERVATION_SLACK_MS } from "./vrrp-timing.ts";

describe("stale ARP bound", () => {
  it("Linux defaults: 5 s DELAY + 3 unicast probes + one broadcast, 1 s apart", () => {
    const w = expectedStaleArpBound({ delayFirstProbeMs: 5000, ucastSolicit: 3, mcastSolicit: 3, retransMs: 1000 });
    expect(w.maxMs).toBe(9000 + OBSERVATION_SLACK_MS);
    expect(w.formula).toContain("delay_first_probe_time 5000 ms");
  });
});
