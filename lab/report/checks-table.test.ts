import { describe, expect, it } from "vitest";
import type { CheckResult } from "../checkers/types.ts";
import { formatChecksTable } from "./checks-table.ts";
import { buildReport } from "./report.ts";

const checks: CheckResult[] = [
  { name: "lvs1-keeps-the-vip", verdict: "pass", measured: 0, unit: "count", expected: "no move", detail: "did not move" },
  { name: "no-client-goes-back", verdict: "fail", measured: 5, unit: "count", expected: "no request served by web2", detail: "first at 91540.8 ms" },
  { name: "first-client-moves", verdict: "unknown", measured: null, expected: "client served by web1", detail: "no successful request" },
];

describe("checks table", () => {
  it("puts why under each check that did not pass, and nothing under those that did", () => {
    const text = formatChecksTable(buildReport({ scenario: "lvs-persistence", description: "", startedAt: new Date(0), durationMs: 1, ops: [], checks, figures: {} }));
    const lines = text.split("\n");
    expect(lines[0]).toBe("lvs-persistence: FAIL");
    expect(lines[1]).toMatch(/^PASS\s+lvs1-keeps-the-vip\s+0\s+no move$/);
    expect(lines[2]).toMatch(/^FAIL\s+no-client-goes-back\s+5\s+no request served by web2$/);
    expect(lines[3]).toBe("      why: first at 91540.8 ms");
    expect(lines[4]).toMatch(/^UNKNOWN\s+first-client-moves/);
    expect(text).not.toContain("did not move");
    expect(text).toContain("why: no successful request");
  });
});
