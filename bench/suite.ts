/**
 * Suite wall time and memory per node type.
 *
 * Suite: the wall time of the test suites. By default the unit suite and the type check are run and
 * timed here (seconds), and the integration suite's time is read from the last JUnit XML that
 * `CI=true npm test` wrote (runs/junit.xml; .ci/run writes it), per file — the whole integration
 * suite takes many minutes on these 2 cores, too long to run inside every benchmark run. With
 * `--run-suite`, `CI=true npm test` itself is run and timed (and writes that JUnit XML).
 *
 * Memory: a lab with every node kind the machine has an image for — load balancer, web server,
 * client; Nacos when its image exists — is started, left idle for a few seconds, and each container's
 * memory read two ways: `docker stats --no-stream` (usage less page cache, what `docker stats` shows)
 * and the cgroup's memory.current (v1: memory.usage_in_bytes; everything charged, page cache included).
 *
 *   node bench/suite.ts [--run-suite] [--no-memory] [--no-nacos] [--junit runs/junit.xml]
 */
import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startLab } from "../lab/lab.ts";
import { connectEngine } from "../lab/runtime/engine.ts";
import { LABEL } from "../lab/runtime/labels.ts";
import { describeMachine, isMain, load, round, say, sh, sleep, summarize, type Summary, writeResult } from "./lib.ts";

const ROOT = join(import.meta.dirname, "..");
const JUNIT = join(ROOT, "runs", "junit.xml");

interface Timed {
  command: string;
  wallMs: number;
  exitCode: number;
  load1Before: number;
  load1After: number;
}

async function timeCommand(command: string, args: string[], env: Record<string, string> = {}): Promise<Timed> {
  const { spawn } = await import("node:child_process");
  const load1Before = load()[0];
  const t0 = performance.now();
  const code = await new Promise<number>((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ["ignore", "ignore", "ignore"], env: { ...process.env, ...env } });
    child.on("close", (c) => resolve(c ?? -1));
  });
  return { command: [command, ...args].join(" "), wallMs: round(performance.now() - t0), exitCode: code, load1Before, load1After: load()[0] };
}

export interface JunitSummary {
  file: string;
  writtenAt: string;
  totalSeconds: number;
  tests: number;
  failures: number;
  skipped: number;
  /** Seconds per test file (vitest's <testsuite name=…>), slowest first. */
  files: Array<{ name: string; seconds: number; tests: number }>;
}

/** Read vitest's JUnit XML: the total and per-file times. */
export async function readJunit(path = JUNIT): Promise<JunitSummary | undefined> {
  if (!existsSync(path)) return undefined;
  const xml = await readFile(path, "utf8");
  const attr = (tag: string, name: string) => new RegExp(`\\b${name}="([^"]*)"`).exec(tag)?.[1];
  const top = /<testsuites\b[^>]*>/.exec(xml)?.[0] ?? "";
  const files = [...xml.matchAll(/<testsuite\b[^>]*>/g)].map((m) => ({
    name: attr(m[0], "name") ?? "?",
    seconds: Number(attr(m[0], "time") ?? 0),
    tests: Number(attr(m[0], "tests") ?? 0),
  }));
  return {
    file: path,
    writtenAt: (await stat(path)).mtime.toISOString(),
    totalSeconds: Number(attr(top, "time") ?? files.reduce((a, f) => a + f.seconds, 0)),
    tests: Number(attr(top, "tests") ?? 0),
    failures: Number(attr(top, "failures") ?? 0),
    skipped: Number(attr(top, "skipped") ?? 0),
    files: files.sort((a, b) => b.seconds - a.seconds),
  };
}

export interface NodeMemory {
  node: string;
  kind: string;
  /** docker stats' MEM USAGE (usage − inactive file cache), MiB. */
  statsMiB: number;
  /** cgroup memory.current (all charged memory, page cache included), MiB. */
  cgroupMiB: number | null;
  processes: number | null;
}

function parseMiB(text: string): number {
  const m = /^([\d.]+)\s*([KMG]i?B|B)$/.exec(text.trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  const unit = m[2]!;
  const f = unit.startsWith("G") ? 1024 : unit.startsWith("M") ? 1 : unit.startsWith("K") ? 1 / 1024 : 1 / 2 ** 20;
  return round(n * f, 1);
}

async function labMemory(lab: string): Promise<NodeMemory[]> {
  const { docker } = await connectEngine();
  const containers = await docker.listContainers({ filters: { label: [`${LABEL.lab}=${lab}`] } });
  const out: NodeMemory[] = [];
  const stats = await sh("docker", ["stats", "--no-stream", "--format", "{{.Name}}\t{{.MemUsage}}", ...containers.map((c) => c.Id)]);
  const byName = new Map(stats.trim().split("\n").map((l) => {
    const [name, usage] = l.split("\t");
    return [name ?? "", parseMiB((usage ?? "").split("/")[0] ?? "")] as const;
  }));
  for (const c of containers) {
    const name = (c.Names[0] ?? "").replace(/^\//, "");
    const exec = async (cmd: string[]) => {
      const e = await docker.getContainer(c.Id).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
      const s = await e.start({ hijack: true, stdin: false });
      const chunks: Buffer[] = [];
      await new Promise<void>((resolve) => {
        s.on("data", (d: Buffer) => chunks.push(d));
        s.on("end", resolve);
        s.on("close", resolve);
      });
      // Strip the 8-byte multiplexing headers.
      const buf = Buffer.concat(chunks);
      let text = "";
      for (let i = 0; i + 8 <= buf.length; ) {
        const len = buf.readUInt32BE(i + 4);
        text += buf.subarray(i + 8, i + 8 + len).toString();
        i += 8 + len;
      }
      return text.trim();
    };
    // cgroup v2: memory.current; v1 (this Docker 20.10 host): memory/memory.usage_in_bytes.
    const current = Number(await exec(["sh", "-c", "cat /sys/fs/cgroup/memory.current 2>/dev/null || cat /sys/fs/cgroup/memory/memory.usage_in_bytes"]).catch(() => "NaN"));
    const procs = Number(await exec(["sh", "-c", "ls -d /proc/[0-9]* | wc -l"]).catch(() => "NaN"));
    out.push({
      node: c.Labels[LABEL.node] ?? name,
      kind: c.Labels[LABEL.role] ?? "?",
      statsMiB: byName.get(name) ?? NaN,
      cgroupMiB: Number.isFinite(current) ? round(current / 2 ** 20, 1) : null,
      processes: Number.isFinite(procs) ? procs : null,
    });
  }
  return out.sort((a, b) => a.node.localeCompare(b.node));
}

export interface SuiteResult {
  typecheck: Timed;
  unit: Timed;
  fullRun?: Timed;
  junit?: JunitSummary;
  memory: Array<{ kind: string; statsMiB: Summary; cgroupMiB: Summary; nodes: NodeMemory[] }>;
  memoryNotes: string[];
}

export async function benchSuite(options: { runSuite?: boolean; memory?: boolean; nacos?: boolean; junit?: string } = {}): Promise<SuiteResult> {
  const machine = await describeMachine();
  const tsc = join(ROOT, "node_modules", ".bin", "tsc");
  const vitest = join(ROOT, "node_modules", ".bin", "vitest");
  const typecheck = await timeCommand(tsc, ["--noEmit", "-p", "tsconfig.json"]);
  say(`suite: type check ${typecheck.wallMs} ms (exit ${typecheck.exitCode})`);
  const unit = await timeCommand(vitest, ["run", "--project", "unit"]);
  say(`suite: unit suite ${unit.wallMs} ms (exit ${unit.exitCode})`);
  let fullRun: Timed | undefined;
  if (options.runSuite) {
    fullRun = await timeCommand("npm", ["test"], { CI: "true" });
    say(`suite: CI=true npm test ${fullRun.wallMs} ms (exit ${fullRun.exitCode})`);
  }
  const junit = await readJunit(options.junit ?? JUNIT);
  if (junit) say(`suite: ${junit.file} (${junit.writtenAt}): ${junit.totalSeconds} s for ${junit.tests} tests, ${junit.failures} failed; slowest ${junit.files.slice(0, 3).map((f) => `${f.name} ${f.seconds} s`).join(", ")}`);
  else say(`suite: no ${options.junit ?? JUNIT} — run \`CI=true npm test\` (or bench with --run-suite) for the integration suite's time`);

  const memory: SuiteResult["memory"] = [];
  const notes: string[] = [];
  if (options.memory !== false) {
    const groups = new Map<string, NodeMemory[]>();
    {
      await using lab = await startLab({ name: "bench-mem", client: true });
      await lab.waitForSteadyState(40_000);
      const stream = lab.requestStream({ ratePerSecond: 200 });
      stream.start();
      await sleep(5000); // a few seconds of the default 200 requests/s, as in a scenario
      for (const m of await labMemory(lab.deployment.lab)) groups.set(m.kind, [...(groups.get(m.kind) ?? []), m]);
      await stream.stop();
    }
    const { docker } = await connectEngine();
    const hasNacos = (await docker.listImages({ filters: { reference: ["failover-lab/nacos"] } })).length > 0;
    if (options.nacos !== false && hasNacos) {
      try {
        await using lab = await startLab({ name: "bench-mem-nacos", web: {}, nacos: { members: 1 } } as Parameters<typeof startLab>[0]);
        await sleep(20_000); // the JVM's start-up
        for (const m of (await labMemory(lab.deployment.lab)).filter((x) => x.kind === "nacos")) groups.set("nacos", [...(groups.get("nacos") ?? []), m]);
      } catch (err) {
        notes.push(`nacos: could not start a one-member Nacos lab: ${(err as Error).message.split("\n").slice(0, 3).join(" ")}`);
      }
    } else notes.push(hasNacos ? "nacos: skipped (--no-nacos)" : "nacos: no failover-lab/nacos image on this engine");
    for (const [kind, nodes] of groups) {
      memory.push({ kind, statsMiB: summarize(nodes.map((n) => n.statsMiB)), cgroupMiB: summarize(nodes.flatMap((n) => (n.cgroupMiB === null ? [] : [n.cgroupMiB]))), nodes });
      say(`memory ${kind}: docker stats ${nodes.map((n) => `${n.node} ${n.statsMiB} MiB`).join(", ")}; cgroup memory.current ${nodes.map((n) => `${n.cgroupMiB} MiB`).join(", ")}`);
    }
    for (const n of notes) say(n);
  }
  const result: SuiteResult = { typecheck, unit, ...(fullRun ? { fullRun } : {}), ...(junit ? { junit } : {}), memory, memoryNotes: notes };
  const file = await writeResult("suite", machine, {
    method: "type check and unit suite timed here; integration suite from runs/junit.xml of the last `CI=true npm test` (or run here with --run-suite); memory of each container of an idle-ish lab (200 requests/s) by docker stats and cgroup memory.current",
    ...result,
  });
  say(`suite: wrote ${file}`);
  return result;
}

if (isMain(import.meta)) {
  const { values } = parseArgs({ options: { "run-suite": { type: "boolean" }, "no-memory": { type: "boolean" }, "no-nacos": { type: "boolean" }, junit: { type: "string" } } });
  await benchSuite({ runSuite: values["run-suite"] ?? false, memory: !values["no-memory"], nacos: !values["no-nacos"], ...(values.junit ? { junit: values.junit } : {}) });
}
