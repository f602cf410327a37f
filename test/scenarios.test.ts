/**
 * Every scenario in scenarios/, against real containers: each one's checks must all pass.
 * The checks table is printed so a CI log shows the measured figures next to the expected ones.
 */
import { describe, expect, it } from "vitest";
import { formatChecksTable } from "../lab/report/checks-table.ts";
import { loadScenario, scenarioNames } from "../lab/scenario/catalog.ts";
import { runScenario } from "../lab/scenario/run.ts";

const only = process.env.SCENARIOS?.split(",").filter(Boolean);
const names = (await scenarioNames()).filter((n) => !only || only.includes(n));

describe("scenarios", () => {
  for (const name of names) {
    // A Nacos cluster takes about a minute to form on two cores, and its member fault runs a minute more.
    it(name, { timeout: name.startsWith("nacos") ? 600_000 : 300_000 }, async () => {
      const scenario = await loadScenario(name);
      const { report } = await runScenario(scenario);
      console.log(formatChecksTable(report));
      expect(report.checks.length).toBeGreaterThan(0);
      expect(report.checks.filter((c) => c.verdict !== "pass").map((c) => `${c.name}: ${c.verdict} (measured ${c.measured}; expected ${c.expected}; ${c.detail ?? ""})`)).toEqual([]);
    });
  }
});
