/**
 * What every benchmark shares: the machine it ran on, the load next to every figure, summary
 * statistics, and the JSON it leaves in bench/results/<name>.json.
 *
 * Durations come from the monotonic clock (`performance.now()`, `hrtime`), never from Date.now()
 * differences. The load average is read before and after each measured step, because this machine
 * is shared with other people's labs, JVMs and a VM: a figure without its load is not a figure.
 */
import { execFile } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, loadavg, release, totalmem } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { connectEngine } from "../lab/runtime/engine.ts";

export const RESULTS_DIR = join(import.meta.dirname, "results");
const run = promisify(execFile);

export interface Machine {
  cores: number;
  cpuModel: string;
  ramGiB: number;
  kernel: string;
  docker: string;
  node: string;
  /** 1-, 5- and 15-minute load averages when the benchmark started. */
  loadAtStart: [number, number, number];
}

export async function describeMachine(): Promise<Machine> {
  const engine = await connectEngine();
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model ?? "?",
    ramGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    docker: `${engine.version}`,
    node: process.versions.node,
    loadAtStart: load(),
  };
}

/** The 1-, 5- and 15-minute load averages, to two decimals. */
export function load(): [number, number, number] {
  const [a, b, c] = loadavg();
  return [round(a ?? 0, 2), round(b ?? 0, 2), round(c ?? 0, 2)];
}

export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
  p90: number;
  mean: number;
  /** Sample standard deviation. */
  stdev: number;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function summarize(values: readonly number[], digits = 1): Summary {
  const s = [...values].sort((a, b) => a - b);
  const n = s.length;
  const mean = n ? s.reduce((a, b) => a + b, 0) / n : NaN;
  const median = n === 0 ? NaN : n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
  const variance = n > 1 ? s.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  return {
    n,
    median: round(median, digits),
    min: round(s[0] ?? NaN, digits),
    max: round(s[n - 1] ?? NaN, digits),
    p90: round(percentile(s, 90), digits),
    mean: round(mean, digits),
    stdev: round(Math.sqrt(variance), digits),
  };
}

export function fmtSummary(s: Summary, unit = "ms"): string {
  return `median ${s.median} ${unit} (min ${s.min}, p90 ${s.p90}, max ${s.max}, n=${s.n})`;
}

/** Write bench/results/<name>.json with the machine and the load at the end beside the figures. */
export async function writeResult(name: string, machine: Machine, body: Record<string, unknown>): Promise<string> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${name}.json`);
  const doc = { benchmark: name, finishedAt: new Date().toISOString(), machine, loadAtEnd: load(), ...body };
  await writeFile(file, `${JSON.stringify(doc, null, 2)}\n`);
  return file;
}

/** Print a line with the 1-minute load next to it. */
export function say(text: string): void {
  process.stdout.write(`${text}   [load ${load().join(" ")}]\n`);
}

/** Run a command on the host and return its stdout (for docker stats, docker-compose, uptime). */
export async function sh(file: string, args: string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<string> {
  const r = await run(file, args, { cwd: options.cwd, timeout: options.timeoutMs ?? 120_000, maxBuffer: 16 << 20 });
  return r.stdout;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Whether this file is the one node was asked to run (so each benchmark also runs alone). */
export function isMain(meta: ImportMeta): boolean {
  return process.argv[1] !== undefined && meta.filename === process.argv[1];
}
