/**
 * What `run` and `demo` share once their flags are parsed: the views around a scenario run.
 *
 *   --output text   (default) progress on stderr, a live status line there when it is a terminal,
 *                   the narration (demo), then the timeline and the checks on stdout
 *   --output json   stdout is the report JSON and nothing else; progress and narration on stderr
 *   --output jsonl  stdout is JSON lines: {"event":"op","op":…} for every op as it happens, then
 *                   {"event":"report","report":…,"folder":…}; progress and narration on stderr
 *   -q              no progress, no status line, no narration
 *
 * The run folder (history, report.json, report.html, configs, logs) is written unless --no-store;
 * --web serves the live view on 127.0.0.1 for the run's duration.
 */
import { writeFile } from "node:fs/promises";
import { type Lang, messages } from "../demo/messages.ts";
import { LabError } from "../errors.ts";
import type { Lab } from "../lab.ts";
import { showLabStatus, StatusLine } from "../live/status-line.ts";
import { WebView } from "../live/web-view.ts";
import { formatChecksTable } from "../report/checks-table.ts";
import { type Report, reportExitCode } from "../report/report.ts";
import { ConsoleReporter, type Reporter, silentReporter } from "../report/reporter.ts";
import type { RunFolder } from "../report/run-folder.ts";
import { formatTimeline } from "../report/timeline-text.ts";
import type { Scenario } from "../scenario/define.ts";
import { runScenario } from "../scenario/run.ts";

export const OUTPUT_MODES = ["text", "json", "jsonl"] as const;
export type OutputMode = (typeof OUTPUT_MODES)[number];

export function parseOutputMode(text: string): OutputMode {
  if ((OUTPUT_MODES as readonly string[]).includes(text)) return text as OutputMode;
  throw new LabError(`Expected --output to be one of ${OUTPUT_MODES.join(", ")}, got ${JSON.stringify(text)}`);
}

export function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new LabError(`Expected --port to be an integer 0–65535, got ${JSON.stringify(text)}`);
  return port;
}

export interface ScenarioCommandOptions {
  scenario: Scenario;
  output: OutputMode;
  quiet: boolean;
  verbose: boolean;
  keep?: boolean;
  /** Run under this lab name instead of the scenario's (two copies at once). */
  name?: string | undefined;
  /** Write the run folder. */
  store: boolean;
  runsDir?: string | undefined;
  /** Serve the live view on this port (0: any free one). */
  webPort?: number | undefined;
  /** The demo narrates; `run` does not. */
  narrate: boolean;
  lang: Lang;
  /** --json FILE: also write the report there. */
  jsonFile?: string | undefined;
}

export interface ScenarioCommandResult {
  report: Report;
  folder: RunFolder | undefined;
  exitCode: 0 | 1;
}

export async function runScenarioCommand(o: ScenarioCommandOptions): Promise<ScenarioCommandResult> {
  const stdout = process.stdout;
  const stderr = process.stderr;
  const m = messages(o.lang);
  const text = o.output === "text";
  const status = new StatusLine(text && !o.quiet ? stderr : { write: () => true });
  const reporter: Reporter = o.quiet ? silentReporter : new ConsoleReporter({ verbose: o.verbose, stream: stderr, status });
  /** Words for the audience: stdout in text mode, stderr otherwise (stdout is then JSON only). */
  const say = (words: string) => {
    if (!o.quiet) status.print(text ? stdout : stderr, `\n▶ ${words}\n`);
  };
  const emit = (event: Record<string, unknown>) => stdout.write(`${JSON.stringify(event)}\n`);

  const web = o.webPort === undefined ? undefined : await WebView.start({ port: o.webPort, lang: o.lang });
  let stopStatus: (() => void) | undefined;
  let unsubscribe: (() => void) | undefined;
  try {
    if (o.narrate) say(m.title);
    if (web) say(m.web.serving(web.url));
    if (o.narrate) say(m.starting(o.name ?? o.scenario.topology.name ?? o.scenario.name));
    const onLab = (lab: Lab) => {
      web?.attach(lab);
      if (text && !o.quiet && status.active) stopStatus = showLabStatus(lab, status);
      if (o.output === "jsonl") {
        for (const op of lab.history.ops()) emit({ event: "op", op });
        unsubscribe = lab.history.subscribe((op) => emit({ event: "op", op }));
      }
    };
    const { report, folder } = await runScenario(o.scenario, {
      reporter,
      keep: o.keep ?? false,
      ...(o.name ? { name: o.name } : {}),
      onLab,
      say: o.narrate ? say : () => undefined,
      lang: o.lang,
      store: o.store ? (o.runsDir ? { root: o.runsDir } : {}) : false,
    }).finally(() => {
      stopStatus?.();
      unsubscribe?.();
    });
    if (o.jsonFile) await writeFile(o.jsonFile, `${JSON.stringify(report, null, 2)}\n`);
    const html = folder?.file("report.html");
    web?.finish(html ?? report.verdict.toUpperCase());

    if (o.output === "json") stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else if (o.output === "jsonl") emit({ event: "report", report, folder: folder?.path ?? null });
    else {
      if (!o.quiet) stdout.write(`\n${o.narrate ? "" : "What happened (seconds since the lab started):\n"}${formatTimeline(report)}\n\n`);
      stdout.write(`${formatChecksTable(report)}\n`);
      if (folder && html) {
        stdout.write(`\n${o.narrate ? `▶ ${m.report(html)}\n▶ ${m.folder(folder.path)}` : `report: ${html}\nrun folder: ${folder.path}`}\n`);
      }
    }
    return { report, folder, exitCode: reportExitCode(report) };
  } finally {
    stopStatus?.();
    if (web) {
      await web.close();
      if (o.narrate) say(m.web.closed);
    }
  }
}
