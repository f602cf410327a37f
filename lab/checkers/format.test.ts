import { describe, expect, it } from "vitest";
import { list, ms, plural, round1 } from "./format.ts";

describe("format", () => {
  it("rounds to 0.1 ms", () => {
    expect(round1(1234.56)).toBe(1234.6);
    expect(round1(1234.54)).toBe(1234.5);
    expect(Object.is(round1(-0.01), 0)).toBe(true);
    expect(ms(3)).toBe("3.0 ms");
  });

  it("lists at most five items", () => {
    expect(list(["a", "b"])).toBe("a; b");
    expect(list(["1", "2", "3", "4", "5", "6", "7"])).toBe("1; 2; 3; 4; 5; and 2 more");
  });

  it("pluralises", () => {
    expect(plural(1, "run")).toBe("1 run");
    expect(plural(2, "run")).toBe("2 runs");
  });
});
