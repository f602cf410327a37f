/**
 * Running a scenario: start its lab, wait for the steady state, start the client streams, play the
 * fault schedule, stop, check the history, build the report. The lab is removed afterwards — also
 * when anything fails — unless `keep` is asked for. With `store`, the run's evidence (history,
 * report, page, configs, every daemon's log) is written to a run folder before the lab goes.
 */
import { errorWindows, requestSummary } from "../checkers/requests.ts";
import { runCheck, type CheckResult } from "../checkers/types.ts";
import { LabError } from "../errors.ts";
import type { Op } from "../history/ops.ts";
import { startLab, type Lab } from "../lab.ts";
import { buildReport, type Report } from "../report/report.ts";
import { type Reporter, silentReporter } from "../report/reporter.ts";
import { RunFolder } from "../report/run-folder.ts";
import { summarizeIpvsConnections } from "../workload/parse.ts";
import type { CheckContext, Scenario, ScenarioContext } from "./define.ts";
import { instanceTiming } from "./timing.ts";

export interface RunScenarioOptions {
  reporter?: Reporter;
  /** Leave the lab up afterwards. */
  keep?: boolean;
  /** Run under another lab name (two copies at once). */
  name?: string;
  /** Called once the lab is up (live views). */
  onLab?: (lab: Lab) => void;
  /** Receives the scenario's narration (the demo prints it). */
  say?: (text: string) => void;
  lang?: "en" | "zh-CN";
  /**
   * Keep the run's evidence in a run folder (report/run-folder.ts): under `root`, else
   * $FAILOVER_LAB_RUNS_DIR, else ./runs. Off unless asked for (the CLI asks).
   */
  store?: { root?: string } | false;
}

export interface ScenarioRun {
  report: Report;
  ops: Op[];
  lab: Lab;
  /** The run folder, when `store` was asked for. */
  folder?: RunFolder;
}

/** How long after the steady state the streams run before the first fault, and after the last step. */
export const SETTLE_MS = 1500;

export async function runScenario(scenario: Scenario, options: RunScenarioOptions = {}): Promise<ScenarioRun> {
  const reporter = options.reporter ?? silentReporter;
  reporter.step(`Scenario ${scenario.name}: ${scenario.title}`);
  const lab = await startLab(scenario.topology, { reporter, keep: options.keep ?? false, ...(options.name ? { name: options.name } : {}) });
  let keep = false;
  let folder: RunFolder | undefined;
  let report: Report | undefined;
  let failure: unknown;
  let withdrawLastWords: (() => void) | undefined;
  try {
    if (options.store) {
      const created = await RunFolder.create(scenario.name, options.store.root ? { root: options.store.root } : {});
      folder = created;
      reporter.step(`Run folder: ${created.path}`);
      // Interrupted (Ctrl-C removes the lab from a signal handler): keep what there is first.
      withdrawLastWords = lab.deployment.beforeDestroy(() =>
        saveEvidence(created, lab, reporter, undefined, new LabError("the run was interrupted before it finished"), options.lang ?? "en"),
      );
    }
    options.onLab?.(lab);
    const remembered = new Map<string, unknown>();
    const vip = lab.instance().vips[0]!;
    const timing = (instance?: string) => instanceTiming(lab, instance);
    reporter.step("Waiting for the steady state (every VIP on its expected master)");
    await lab.waitForSteadyState();
    const steadyMs = lab.clock.nowMs();
    lab.note("steady state");

    const plans = scenario.requests === false ? [] : (scenario.requests ?? [{}]);
    const streams = plans.map((p) =>
      lab.requestStream({
        ...(p.vip ? { vip: p.vip } : {}),
        name: p.name ?? (plans.length > 1 ? (p.vip ?? "vip") : "vip"),
        ...(p.ratePerSecond ? { ratePerSecond: p.ratePerSecond } : {}),
        ...(p.timeoutMs ? { timeoutMs: p.timeoutMs } : {}),
        ...(p.clients ? { sources: clientAddresses(lab, p.clients) } : {}),
      }),
    );
    for (const s of streams) s.start();
    // A stream that runs in the client node (an engine whose network this process cannot reach) needs a moment to start.
    await Promise.all(streams.map((s) => s.ready?.()));
    if (streams.length) reporter.step(`Client: ${streams.map((s) => `${s.url} at ${plans[streams.indexOf(s)]?.ratePerSecond ?? (s.ready ? 20 : 200)}/s`).join(", ")}`);
    await sleep(SETTLE_MS);

    const ctx: ScenarioContext = {
      lab,
      vip,
      timing,
      fault: (kind, node, params) => lab.nemesis.inject(kind, node, params),
      sleep,
      note: (label) => lab.note(label),
      remember: (key, value) => remembered.set(key, value),
      say: (text) => options.say?.(text),
      lang: options.lang ?? "en",
    };
    await scenario.run(ctx);
    await sleep(SETTLE_MS);
    for (const s of streams) await s.stop();
    lab.note("end");
    await lab.catchUpObservers();
    await reportIpvsConnections(lab, reporter);

    const ops = lab.history.ops();
    const checkCtx: CheckContext = {
      ops,
      steadyMs,
      lab,
      vip,
      timing,
      recall: <T>(key: string) => {
        if (!remembered.has(key)) throw new LabError(`scenario ${scenario.name} did not remember "${key}"`);
        return remembered.get(key) as T;
      },
    };
    let checks: CheckResult[];
    try {
      checks = scenario.checks(checkCtx).map((checker) => checker(ops));
    } catch (err) {
      checks = [runCheck(`${scenario.name} checks`, () => {
        throw err;
      })];
    }
    const figures: Record<string, number | null> = {};
    for (const [figure, checkName] of Object.entries(scenario.figures ?? {})) {
      const c = checks.find((x) => x.name === checkName);
      figures[figure] = typeof c?.measured === "number" ? c.measured : null;
    }
    report = buildReport({
      scenario: scenario.name,
      description: scenario.description,
      startedAt: lab.clock.startedAt,
      durationMs: lab.clock.nowMs(),
      ops,
      checks,
      figures: { ...defaultFigures(ops), ...figures },
    });
    keep = options.keep ?? false;
    return { report, ops, lab, ...(folder ? { folder } : {}) };
  } catch (err) {
    failure = err;
    throw err;
  } finally {
    withdrawLastWords?.();
    if (folder) await saveEvidence(folder, lab, reporter, report, failure, options.lang ?? "en");
    if (keep) await lab.detach();
    else await lab.stop();
  }
}

/**
 * Write the run folder while the lab's containers still exist (a powered-off node's logs are read
 * through the engine's archive API, which needs no process in it). Never throws: a run's own
 * outcome or error is what the caller must see; problems are listed in run.json and warned about.
 */
async function saveEvidence(folder: RunFolder, lab: Lab, reporter: Reporter, report: Report | undefined, error: unknown, lang: "en" | "zh-CN"): Promise<void> {
  reporter.step(`Saving the run's history, report, configs and daemon logs in ${folder.path}`);
  try {
    const { renderHtmlReport } = await import("../report/html.ts");
    const manifest = await folder.saveEvidence({
      ops: lab.history.ops(),
      report,
      ...(error !== undefined ? { error } : {}),
      configs: new Map(lab.topology.nodes.map((n) => [n.name, lab.filesOf(n.name)])),
      nodes: [...lab.deployment.nodes.values()],
      lab: { name: lab.name, run: lab.deployment.run },
      renderHtml: (r, ops) => renderHtmlReport(r, ops, { lang }),
    });
    for (const p of manifest.problems) reporter.warn(`run folder: ${p}`);
  } catch (err) {
    reporter.warn(`could not write the run folder ${folder.path}: ${(err as Error).message}`);
  }
}

/**
 * Each director's IPVS connection table at the end (`ipvsadm -Lnc`: connections and persistence
 * templates, which live on for minutes): saved in /var/log/lab for the run folder, and said in one
 * line per director (which client is bound to which real server, and where its connections went).
 */
async function reportIpvsConnections(lab: Lab, reporter: Reporter): Promise<void> {
  const directors = lab.topology.nodes.filter((n) => n.kind === "director");
  const tables = await Promise.all(
    directors.map(async (d) => {
      const r = await lab.node(d.name).exec(["sh", "-c", "ipvsadm -Lnc > /var/log/lab/ipvs-connections.txt 2>&1; cat /var/log/lab/ipvs-connections.txt"], { check: false, timeoutMs: 20_000 }).catch(() => undefined);
      return { name: d.name, text: r?.exitCode === 0 ? r.stdout : undefined };
    }),
  );
  for (const t of tables) if (t.text !== undefined) reporter.step(`${t.name}'s IPVS connections at the end: ${summarizeIpvsConnections(t.text)}`);
}

/** The first `n` addresses the client node may send from: its own, then its extra ones. */
function clientAddresses(lab: Lab, n: number): string[] {
  const client = lab.topology.client;
  if (!client) throw new LabError(`a request plan with ${n} clients needs a client node (client: true)`);
  const all = [client.address, ...lab.topology.clientSources];
  if (n > all.length) throw new LabError(`a request plan asks for ${n} clients; the client node can send from ${all.length} addresses`);
  return all.slice(0, n);
}

/** Figures every report has: failed requests and the longest error window (null without a client stream). */
function defaultFigures(ops: readonly Op[]): Record<string, number | null> {
  const summary = requestSummary(ops);
  if (summary.total === 0) return { failedRequests: null, errorWindowMs: null };
  const longest = Math.max(0, ...errorWindows(ops).map((w) => w.toMs - w.fromMs));
  return { failedRequests: summary.failed, errorWindowMs: longest };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
