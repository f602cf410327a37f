/**
 * A passed configuration check is a fact about its inputs: the same files, checked by the same
 * commands in the same image (image tags carry a hash of their build context), pass again. Passed
 * results are kept in ~/.cache/failover-lab/config-checks/ and reused; a run with a problem is never
 * cached, so every error is shown by the daemons themselves each time.
 */
import { createHash } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import type { ConfigCheckJob, ConfigProblem } from "./config-check.ts";

export function configCheckCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "failover-lab", "config-checks");
}

/** A key for exactly these inputs: images, files (path, mode, content) and commands of every job. */
export function configCheckKey(jobs: readonly ConfigCheckJob[]): string {
  const h = createHash("sha256");
  for (const job of [...jobs].sort((a, b) => a.node.localeCompare(b.node))) {
    h.update(`node\0${job.node}\0image\0${job.image}\0`);
    for (const f of [...job.files].sort((a, b) => a.path.localeCompare(b.path))) h.update(`file\0${f.path}\0${f.mode ?? 0o644}\0${f.content}\0`);
    for (const c of job.checks) h.update(`check\0${c.command.join("\u0001")}\0`);
  }
  return h.digest("hex");
}

export interface CachedCheck {
  problems: ConfigProblem[];
  /** Whether the result came from the cache. */
  cached: boolean;
}

/** Run the checks unless an identical set passed before; cache a result only when it has no error. */
export async function checkConfigsCached(
  jobs: ConfigCheckJob[],
  run: (jobs: ConfigCheckJob[]) => Promise<ConfigProblem[]>,
  dir = configCheckCacheDir(),
): Promise<CachedCheck> {
  const file = join(dir, `${configCheckKey(jobs)}.json`);
  try {
    const problems = JSON.parse(await readFile(file, "utf8")) as ConfigProblem[];
    if (Array.isArray(problems) && problems.every((p) => p.severity === "warning")) return { problems, cached: true };
  } catch {
    /* not cached (or unreadable): check */
  }
  const problems = await run(jobs);
  if (problems.every((p) => p.severity !== "error")) {
    await mkdir(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(problems));
    await rename(tmp, file); // atomic: concurrent labs never read half a file
  }
  return { problems, cached: false };
}
