/**
 * Every scenario in scenarios/, against real containers: each one's checks must all pass.
 * The checks table is printed so a CI log shows the measured figures next to the expected ones, and
 * for a scenario with a check that did not pass, its timeline (faults, VRRP states, VIP moves, errors).
 *
 * Scenarios that need IPVS (LVS directors) run last, on the engine runtime/engines.ts picks — here,
 * where the kernel has no IP_VS, the qemu guest, booted once for all of them and powered off at the
 * end — or are skipped with the reason when no engine can serve them.
 */
import { afterAll, describe, expect, it } from "vitest";
import { topologyNeeds } from "../lab/lab.ts";
import { formatChecksTable } from "../lab/report/checks-table.ts";
import { formatTimeline } from "../lab/report/timeline-text.ts";
import { ConsoleReporter } from "../lab/report/reporter.ts";
import { closeEngines, engineProvider } from "../lab/runtime/engines.ts";
import { loadScenario, scenarioNames } from "../lab/scenario/catalog.ts";
import { runScenario } from "../lab/scenario/run.ts";

const only = process.env.SCENARIOS?.split(",").filter(Boolean);
const names = (await scenarioNames()).filter((n) => !only || only.includes(n));
const scenarios = await Promise.all(names.map(async (name) => ({ name, needs: topologyNeeds((await loadScenario(name)).topology) })));
// The guest's emulated CPUs would take from the host's scenarios' timings: run those first.
const ordered = [...scenarios.filter((s) => s.needs.length === 0), ...scenarios.filter((s) => s.needs.length > 0)];

describe("scenarios", () => {
  afterAll(async () => {
    const stopped = await closeEngines();
    if (stopped) console.log(`guest engine powered off in ${(stopped.ms / 1000).toFixed(1)} s (${stopped.clean ? "clean" : "killed"})`);
  }, 120_000);

  for (const { name, needs } of ordered) {
    // A Nacos cluster takes about a minute to form on two cores, and its member fault runs a minute more.
    // The first IPVS scenario may also build the guest (~2 min, once per recipe) and load the images into it (~2–4 min, once).
    const timeout = needs.length > 0 ? 1_200_000 : name.startsWith("nacos") ? 600_000 : 300_000;
    it(name, { timeout }, async (ctx) => {
      if (needs.length > 0) {
        const plan = await engineProvider().plan(needs);
        if (plan.kind === "skipped") {
          console.log(`scenario ${name} skipped: ${plan.detail}`);
          ctx.skip(plan.detail);
        }
      }
      const scenario = await loadScenario(name);
      const reporter = needs.length > 0 ? new ConsoleReporter({ stream: process.stdout }) : undefined;
      const t0 = performance.now();
      const { report } = await runScenario(scenario, reporter ? { reporter } : {});
      console.log(formatChecksTable(report));
      // A failing run's folder is not kept in CI: its timeline in the log is what is left to read.
      if (report.checks.some((c) => c.verdict !== "pass")) console.log(`timeline of ${name}:\n${formatTimeline(report)}`);
      if (needs.length > 0) console.log(`scenario ${name}: ${((performance.now() - t0) / 1000).toFixed(0)} s`);
      expect(report.checks.length).toBeGreaterThan(0);
      expect(report.checks.filter((c) => c.verdict !== "pass").map((c) => `${c.name}: ${c.verdict} (measured ${c.measured}; expected ${c.expected}; ${c.detail ?? ""})`)).toEqual([]);
    });
  }
});
