import { describe, expect, it } from "vitest";
import { duration } from "./timeline-text.ts";

describe("durations in the timeline", () => {
  it("show a hand-over's sub-millisecond overlap in ms instead of 0.000 s", () => {
    expect(duration(0.4)).toBe("0.4 ms");
    expect(duration(648.44)).toBe("648.4 ms");
    expect(duration(3145.2)).toBe("3.145 s");
  });
});
