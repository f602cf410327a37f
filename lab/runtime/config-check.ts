/**
 * Configuration checked by the daemons themselves (`keepalived --config-test`, `nginx -t`) in the
 * lab's own images, before the lab starts: one throwaway container per node, with exactly the files
 * the node will get, on the engine's default network (keepalived needs its interface to exist).
 * Problems come back with the file and line the daemon named.
 */
import { randomUUID } from "node:crypto";
import { connectEngine, type Engine } from "./engine.ts";
import type { NodeFile } from "./deployment.ts";
import { labelsFor } from "./labels.ts";
import { LabNode, NodeContainer } from "./node-container.ts";
import { paceOf } from "./pace.ts";

export interface ConfigCheckJob {
  node: string;
  image: string;
  files: NodeFile[];
  checks: Array<{ name: string; command: string[] }>;
}

export interface ConfigProblem {
  node: string;
  check: string;
  /** Path inside the node, as the daemon named it. */
  path: string | undefined;
  line: number | undefined;
  message: string;
  severity: "error" | "warning";
}

/** Run the checks on `engine` (default: the process's engine, `connectEngine`). */
export async function runConfigChecks(lab: string, jobs: ConfigCheckJob[], engine?: Engine): Promise<ConfigProblem[]> {
  const on = engine ?? (await connectEngine());
  const pace = paceOf(on);
  const run = { lab, run: `check-${randomUUID().slice(0, 8)}`, keep: false };
  const results = await Promise.all(
    jobs
      .filter((j) => j.checks.length > 0)
      .map(async (job) => {
        let id: string | undefined;
        try {
          id = await new NodeContainer(job.image)
            .withName(`${lab}-${job.node}-config-check-${run.run.slice(6)}`)
            .withCommand(["sleep", "300"])
            .withLabels(labelsFor(run, { name: job.node, role: "config-check" }))
            .withCopyContentToContainer(job.files.map((f) => ({ content: f.content, target: f.path, mode: f.mode ?? 0o644 })))
            .withStartupTimeout(30_000 * pace.timeScale)
            .start(on.docker);
          const node = new LabNode(id, on.docker, { name: job.node, role: "config-check", address: "" }, pace);
          const problems: ConfigProblem[] = [];
          for (const check of job.checks) {
            const r = await node.exec(check.command, { check: false, timeoutMs: 30_000 });
            problems.push(...parseCheckOutput(job.node, check.name, r.exitCode, r.stdout + r.stderr));
          }
          return problems;
        } finally {
          if (id) await on.docker.getContainer(id).remove({ force: true, v: true }).catch(() => undefined);
        }
      }),
  );
  return results.flat();
}

const KEEPALIVED_LINE = /^\((\S+?): Line (\d+)\) (.*)$/;
const NGINX_LINE = /\[(emerg|alert|crit|error|warn)\] (?:\d+#\d+: )?(.*?) in (\S+?):(\d+)$/;

/** Turn a checker's output into problems; an exit code of 0 makes everything a warning. */
export function parseCheckOutput(node: string, check: string, exitCode: number, output: string): ConfigProblem[] {
  const failed = exitCode !== 0;
  const problems: ConfigProblem[] = [];
  for (const raw of output.split("\n")) {
    const line = raw.trim();
    if (!line) continue;
    const k = KEEPALIVED_LINE.exec(line);
    if (k) {
      const message = k[3]!;
      problems.push({ node, check, path: k[1], line: Number(k[2]), message, severity: failed && !/^WARNING/i.test(message) ? "error" : "warning" });
      continue;
    }
    const n = NGINX_LINE.exec(line);
    if (n) {
      problems.push({ node, check, path: n[3], line: Number(n[4]), message: n[2]!, severity: n[1] === "warn" ? "warning" : "error" });
      continue;
    }
    if (failed && !/test failed|syntax is ok|test is successful/.test(line)) {
      problems.push({ node, check, path: undefined, line: undefined, message: line, severity: "error" });
    }
  }
  if (failed && !problems.some((p) => p.severity === "error")) {
    problems.push({ node, check, path: undefined, line: undefined, message: `exited with ${exitCode}`, severity: "error" });
  }
  return problems;
}
