/**
 * Flakiness: every failover scenario (those reporting a migration or failover time) run 20 times in
 * a row, each run in a lab of its own under a `bench-s-…` name, exactly as `npm test` runs it. A
 * failure is a finding, not noise: the runner never retries, and every run's failing checks are kept.
 * The spread of each scenario's figures (migration, failed requests, longest error window, …) is
 * reported. Results are written after every run to bench/results/soak.json (soak-<names>.json with --only), so a long soak that is
 * stopped still leaves what it measured.
 *
 *   npm run soak                                   # every failover scenario, 20 runs each
 *   node bench/soak.ts --runs 20 --only power-off,graceful-stop
 */
import { parseArgs } from "node:util";
import { loadScenario, scenarioNames } from "../lab/scenario/catalog.ts";
import { runScenario } from "../lab/scenario/run.ts";
import { describeMachine, isMain, load, round, say, summarize, type Summary, writeResult } from "./lib.ts";

/** Failover scenarios: those whose report has a migration or failover time. */
export async function failoverScenarios(): Promise<string[]> {
  const out: string[] = [];
  for (const name of await scenarioNames()) {
    const figures = Object.keys((await loadScenario(name)).figures ?? {});
    if (name !== "tour" && figures.some((f) => f === "migrationMs" || f === "failoverMs")) out.push(name);
  }
  return out;
}

interface SoakRun {
  run: number;
  verdict: string;
  durationMs: number;
  load1: number;
  figures: Record<string, number | null>;
  failing?: string[];
  error?: string;
}

interface SoakScenario {
  scenario: string;
  runs: SoakRun[];
  passed: number;
  failed: number;
  figures: Record<string, Summary>;
}

function labName(scenario: string): string {
  return `bench-s-${scenario}`.slice(0, 24).replace(/-+$/, "");
}

export async function soak(options: { runs?: number; only?: string[] } = {}): Promise<SoakScenario[]> {
  const runs = options.runs ?? 20;
  const machine = await describeMachine();
  const names = options.only ?? (await failoverScenarios());
  const results: SoakScenario[] = [];
  const save = () =>
    writeResult(options.only ? `soak-${names.join("-")}` : "soak", machine, {
      method: `each scenario run ${runs} times in a row with runScenario (a fresh lab per run, as npm test runs it), no retries`,
      runsPerScenario: runs,
      scenarios: results,
    });
  for (const name of names) {
    const scenario = await loadScenario(name);
    const entry: SoakScenario = { scenario: name, runs: [], passed: 0, failed: 0, figures: {} };
    results.push(entry);
    for (let i = 1; i <= runs; i++) {
      const load1 = load()[0];
      const t0 = performance.now();
      let run: SoakRun;
      try {
        const { report } = await runScenario(scenario, { name: labName(name) });
        const failing = report.checks.filter((c) => c.verdict !== "pass").map((c) => `${c.name}: ${c.verdict} (measured ${c.measured}; ${c.detail ?? ""})`);
        run = { run: i, verdict: report.verdict, durationMs: round(performance.now() - t0, 0), load1, figures: report.figures, ...(failing.length ? { failing } : {}) };
      } catch (err) {
        run = { run: i, verdict: "error", durationMs: round(performance.now() - t0, 0), load1, figures: {}, error: (err as Error).message.split("\n").slice(0, 4).join(" ") };
      }
      entry.runs.push(run);
      if (run.verdict === "pass") entry.passed++;
      else entry.failed++;
      const shown = Object.entries(run.figures).filter(([, v]) => typeof v === "number").map(([k, v]) => `${k} ${round(v!, 1)}`).join(", ");
      say(`soak ${name} ${i}/${runs}: ${run.verdict.toUpperCase()} ${shown}${run.failing ? ` — ${run.failing.join("; ")}` : ""}${run.error ? ` — ${run.error}` : ""}`);
      const keys = new Set(entry.runs.flatMap((r) => Object.keys(r.figures)));
      entry.figures = Object.fromEntries(
        [...keys].map((k) => [k, summarize(entry.runs.flatMap((r) => (typeof r.figures[k] === "number" ? [r.figures[k]] : [])))]).filter(([, s]) => (s as Summary).n > 0),
      );
      await save();
    }
    say(`soak ${name}: ${entry.passed}/${runs} passed; ${Object.entries(entry.figures).map(([k, s]) => `${k} median ${s.median} [${s.min}, ${s.max}] p90 ${s.p90}`).join("; ")}`);
  }
  say(`soak: wrote ${await save()}`);
  return results;
}

if (isMain(import.meta)) {
  const { values } = parseArgs({ options: { runs: { type: "string" }, only: { type: "string" } } });
  const results = await soak({ runs: values.runs ? Number(values.runs) : 20, ...(values.only ? { only: values.only.split(",") } : {}) });
  process.exitCode = results.some((r) => r.failed > 0) ? 1 : 0;
}
