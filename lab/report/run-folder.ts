/**
 * The run store: every run keeps its evidence in a folder of its own, and `latest` links to the
 * newest one.
 *
 *   runs/20261121T203412Z-power-off/
 *     run.json          what this folder is: scenario, lab, run id, times, what was collected, problems
 *     history.jsonl     every op of the run, one JSON object a line, in time order
 *     report.json       the report (failover-lab/report@1, docs/report.md)
 *     report.html       the same report as one self-contained page (charts, checks)
 *     error.txt         only when the run stopped with an error before its report
 *     configs/<node>/…  the files rendered (or brought) for each node, at their paths in the node
 *     logs/<node>/…     every daemon's log, copied out of the node before the lab was removed
 *   runs/latest -> 20261121T203412Z-power-off
 *
 * The root is `options.root`, else FAILOVER_LAB_RUNS_DIR, else ./runs.
 */
import { mkdir, rename, symlink, unlink, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { errorMessage, LabError } from "../errors.ts";
import { toJsonLines } from "../history/history.ts";
import type { Op } from "../history/ops.ts";
import type { NodeFileCopy } from "../runtime/node-container.ts";
import type { Report } from "./report.ts";

/** Where the daemons of a node write their logs: labctl's (/var/log/lab/*.log) and nginx's own. */
export const NODE_LOG_PATHS = ["/var/log/lab", "/var/log/nginx"] as const;

export const RUNS_DIR_ENV = "FAILOVER_LAB_RUNS_DIR";

/** The folder runs are kept under: the one given, else $FAILOVER_LAB_RUNS_DIR, else ./runs. */
export function runsRoot(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(explicit ?? (env[RUNS_DIR_ENV] || "runs"));
}

/** `20261121T203412Z-power-off`: UTC, sortable, safe in any file system. */
export function runFolderName(scenario: string, at: Date): string {
  const stamp = at.toISOString().replace(/\.\d+Z$/, "Z").replace(/[-:]/g, "");
  return `${stamp}-${scenario.replace(/[^A-Za-z0-9._-]/g, "_")}`;
}

/** What a run folder needs of a node: its name, and its files read without a process in it. */
export interface LogSource {
  name: string;
  readTree(path: string, timeoutMs?: number): Promise<NodeFileCopy[]>;
}

export interface RunManifest {
  schema: "failover-lab/run@1";
  scenario: string;
  lab: string | null;
  run: string | null;
  startedAt: string;
  /** `report`: the run ended with its report; `error`: it stopped before (see error.txt). */
  outcome: "report" | "error" | "running";
  error: string | null;
  /** Per node, the log files copied (paths in the node). */
  logs: Record<string, string[]>;
  /** Per node, the config files written. */
  configs: Record<string, string[]>;
  /** What could not be collected, and why. */
  problems: string[];
}

export interface EvidenceInput {
  ops: readonly Op[];
  report?: Report | undefined;
  error?: unknown;
  /** Files rendered for each node. */
  configs: ReadonlyMap<string, ReadonlyArray<{ path: string; content: string }>>;
  /** Nodes to copy logs from (all of the lab's containers, powered off or not). */
  nodes: readonly LogSource[];
  lab?: { name: string; run: string };
  /** Renders report.html; absent: no page is written. */
  renderHtml?: (report: Report, ops: readonly Op[]) => Promise<string>;
}

export class RunFolder {
  readonly path: string;
  readonly scenario: string;
  readonly startedAt: Date;

  private constructor(path: string, scenario: string, startedAt: Date) {
    this.path = path;
    this.scenario = scenario;
    this.startedAt = startedAt;
  }

  /** Make a new folder under the root (a suffix when the name is taken) and point `latest` at it. */
  static async create(scenario: string, options: { root?: string; now?: Date } = {}): Promise<RunFolder> {
    const root = runsRoot(options.root);
    const at = options.now ?? new Date();
    const base = runFolderName(scenario, at);
    try {
      await mkdir(root, { recursive: true });
    } catch (err) {
      throw new LabError(`Cannot create the runs folder ${root}: ${(err as Error).message}`, {
        remedy: `Set ${RUNS_DIR_ENV} (or --runs-dir) to a writable folder.`,
        cause: err,
      });
    }
    for (let n = 1; n < 100; n++) {
      const path = join(root, n === 1 ? base : `${base}-${n}`);
      try {
        await mkdir(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "EEXIST") continue;
        throw new LabError(`Cannot create the run folder ${path}: ${(err as Error).message}`, { cause: err });
      }
      const folder = new RunFolder(path, scenario, at);
      await folder.linkLatest();
      return folder;
    }
    throw new LabError(`Too many runs named ${base} in ${root}`);
  }

  /** Write everything the run left: history, report (+ page), configs, logs, and the manifest. */
  async saveEvidence(input: EvidenceInput): Promise<RunManifest> {
    const manifest: RunManifest = {
      schema: "failover-lab/run@1",
      scenario: this.scenario,
      lab: input.lab?.name ?? null,
      run: input.lab?.run ?? null,
      startedAt: this.startedAt.toISOString(),
      outcome: input.report ? "report" : input.error === undefined ? "running" : "error",
      error: input.error === undefined ? null : errorMessage(input.error),
      logs: {},
      configs: {},
      problems: [],
    };
    await this.write("history.jsonl", toJsonLines(input.ops));
    if (input.report) {
      await this.write("report.json", `${JSON.stringify(input.report, null, 2)}\n`);
      if (input.renderHtml) {
        try {
          await this.write("report.html", await input.renderHtml(input.report, input.ops));
        } catch (err) {
          manifest.problems.push(`report.html: ${errorMessage(err)}`);
        }
      }
    }
    if (input.error !== undefined) {
      const e = input.error;
      await this.write("error.txt", `${errorMessage(e)}\n${e instanceof Error && e.stack ? `\n${e.stack}\n` : ""}`);
    }
    for (const [node, files] of input.configs) {
      manifest.configs[node] = [];
      for (const f of files) {
        await this.write(join("configs", node, f.path), f.content);
        manifest.configs[node]!.push(f.path);
      }
    }
    const collected = await Promise.all(input.nodes.map((n) => collectLogs(n)));
    for (const { node, files, problems } of collected) {
      manifest.logs[node] = [];
      for (const f of files) {
        await this.write(join("logs", node, f.path), f.content);
        manifest.logs[node]!.push(f.path);
      }
      manifest.problems.push(...problems);
    }
    await this.write("run.json", `${JSON.stringify(manifest, null, 2)}\n`);
    return manifest;
  }

  /** Path of a file in this folder. */
  file(name: string): string {
    return join(this.path, name);
  }

  private async write(relative: string, content: string | Buffer): Promise<void> {
    const path = join(this.path, relative.replace(/^\/+/, ""));
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content);
  }

  /** `latest` → this folder, replaced atomically (a relative link, so the tree can be moved). */
  private async linkLatest(): Promise<void> {
    const root = dirname(this.path);
    const tmp = join(root, `.latest-${process.pid}-${Date.now()}`);
    await unlink(tmp).catch(() => undefined);
    await symlink(this.path.slice(root.length + 1), tmp);
    await rename(tmp, join(root, "latest"));
  }
}

async function collectLogs(node: LogSource): Promise<{ node: string; files: NodeFileCopy[]; problems: string[] }> {
  const files: NodeFileCopy[] = [];
  const problems: string[] = [];
  for (const path of NODE_LOG_PATHS) {
    try {
      files.push(...(await node.readTree(path)));
    } catch (err) {
      problems.push(`logs of ${node.name} (${path}): ${errorMessage(err)}`);
    }
  }
  return { node: node.name, files, problems };
}
