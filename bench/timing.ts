/**
 * Timing fidelity: how close the lab's measured failovers come to the protocol's formulas.
 *
 * For VRRPv2 with 1 s adverts and VRRPv3 with 0.1 s adverts, each at two priority pairs (100/90 and
 * 200/50), one lab per configuration is started and the same fault repeated N times (power the master
 * back on, or start its keepalived again, and wait for it to preempt between samples):
 *
 *   power-off      (silent master)  fault effect → VIP on the backup ∈ [MDI − advert, MDI]
 *   graceful-stop  (priority-0)     fault effect → VIP on the backup = Skew_Time
 *
 * Each sample is measured as the scenarios measure it: the migrationTime checker on the lab's history,
 * from the fault's effect (FaultResult.effectMs: the engine's death time, labctl's in-node stamp) to
 * the backup's `ip monitor` stamp of the VIP. Expected values come only from lab/protocol/vrrp-timing.ts.
 *
 *   node bench/timing.ts [--n 10] [--only v2-100-90,v3-200-50] [--faults power-off,graceful-stop]
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { migrationTime } from "../lab/checkers/migration.ts";
import { startLab, type Lab } from "../lab/lab.ts";
import {
  expectedGracefulFailover,
  expectedSilentFailover,
  masterDownIntervalMs,
  OBSERVATION_SLACK_MS,
  skewTimeMs,
  type VrrpTimerInput,
} from "../lab/protocol/vrrp-timing.ts";
import { describeMachine, fmtSummary, isMain, load, RESULTS_DIR, round, say, sleep, summarize, type Summary, writeResult } from "./lib.ts";

export interface TimingConfig {
  id: string;
  version: 2 | 3;
  advertIntMs: number;
  master: number;
  backup: number;
}

export const CONFIGS: TimingConfig[] = [
  { id: "v2-100-90", version: 2, advertIntMs: 1000, master: 100, backup: 90 },
  { id: "v2-200-50", version: 2, advertIntMs: 1000, master: 200, backup: 50 },
  { id: "v3-100-90", version: 3, advertIntMs: 100, master: 100, backup: 90 },
  { id: "v3-200-50", version: 3, advertIntMs: 100, master: 200, backup: 50 },
];

export type FaultName = "power-off" | "graceful-stop";

interface Sample {
  ms: number | null;
  verdict: string;
  /** 1-minute load average when the sample was taken. */
  load1: number;
  detail?: string;
}

export interface FaultResultSummary {
  config: string;
  fault: FaultName;
  formula: string;
  expected: { minMs: number; maxMs: number; slackMs: number; pointMs: number };
  samples: Sample[];
  measured: Summary;
  /** measured − the formula's point value (power-off: MDI, the latest the protocol allows; graceful: Skew_Time). */
  errorVsFormula: Summary;
  /** power-off only: where in [MDI − advert, MDI] the sample fell, 0 … 1 (uniform if the lab adds nothing). */
  windowPosition?: Summary & { ksDistanceToUniform: number };
  inWindow: number;
  failures: number;
  loadDuring: Summary;
}

function topologyFor(c: TimingConfig) {
  return {
    name: `bench-t-${c.id}`,
    web: { web1: {} },
    keepalived: {
      version: c.version,
      instances: {
        VI_1: { virtualRouterId: 51, vips: [100], advertInt: c.advertIntMs / 1000, priorities: { lb1: c.master, lb2: c.backup } },
      },
    },
  };
}

/** Kolmogorov–Smirnov distance between the sample and U(0, 1). */
function ksUniform(values: number[]): number {
  const s = values.map((v) => Math.min(1, Math.max(0, v))).sort((a, b) => a - b);
  let d = 0;
  s.forEach((v, i) => {
    d = Math.max(d, Math.abs((i + 1) / s.length - v), Math.abs(v - i / s.length));
  });
  return round(d, 3);
}

class LabVanished extends Error {}

/** Someone's `failover-lab down --all` removes every lab on the engine, this one too: start another. */
async function assertLabExists(lab: Lab): Promise<void> {
  const gone = await lab.node("lb2").powerState().then(() => false, () => true);
  if (gone) throw new LabVanished(`lab ${lab.name} was removed from under the benchmark (someone ran \`failover-lab down --all\`?)`);
}

async function settle(lab: Lab, vip: string, advertIntMs: number): Promise<void> {
  await lab.waitForVip(vip, "lb1", 40_000);
  await lab.waitFor("lb2 in BACKUP state", () => lab.vrrp.state("lb2", "VI_1") === "BACKUP", 20_000);
  // A few adverts from the master, then a random offset so faults land anywhere in the advert period.
  await sleep(2 * advertIntMs + Math.random() * advertIntMs);
}

function timerInput(c: TimingConfig): VrrpTimerInput {
  return { version: c.version, advertIntMs: c.advertIntMs, backupPriority: c.backup };
}

/** One sample: settle, break the master, wait for the backup, measure as the scenarios do, heal. */
async function takeSample(lab: Lab, c: TimingConfig, fault: FaultName, label: string): Promise<Sample> {
  const vip = lab.instance().vips[0]!;
  const expected = fault === "power-off" ? expectedSilentFailover(timerInput(c)) : expectedGracefulFailover(timerInput(c));
  const load1 = load()[0];
  try {
    await settle(lab, vip, c.advertIntMs);
    const f = fault === "power-off" ? await lab.nemesis.inject("power-off", "lb1") : await lab.nemesis.inject("stop-keepalived", "lb1");
    await lab.waitForVip(vip, "lb2", 20_000);
    const check = migrationTime({ vip, fault: { faultId: f.faultId }, from: "lb1", to: "lb2", expected, anchor: "effect" })(lab.history.ops());
    const ms = typeof check.measured === "number" ? round(check.measured, 1) : null;
    say(`  ${label}: ${ms === null ? "—" : `${ms} ms`} ${check.verdict}`);
    return { ms, verdict: check.verdict, load1, ...(check.verdict !== "pass" ? { detail: check.detail ?? "" } : {}) };
  } catch (err) {
    await assertLabExists(lab);
    say(`  ${label}: error ${(err as Error).message.split("\n")[0]}`);
    return { ms: null, verdict: "error", load1, detail: (err as Error).message };
  } finally {
    // Heal: the master comes back and preempts (the next settle() waits for that).
    const heal = fault === "power-off" ? "power-on" : "start-keepalived";
    await lab.nemesis.inject(heal, "lb1").catch((err: Error) => say(`  ${label}: ${heal} failed: ${err.message.split("\n")[0]}`));
  }
}

function summarizeFault(c: TimingConfig, fault: FaultName, samples: Sample[]): FaultResultSummary {
  const input = timerInput(c);
  const expected = fault === "power-off" ? expectedSilentFailover(input) : expectedGracefulFailover(input);
  const mdi = masterDownIntervalMs(input);
  const pointMs = fault === "power-off" ? mdi : skewTimeMs(input);
  const values = samples.flatMap((s) => (s.ms === null ? [] : [s.ms]));
  const result: FaultResultSummary = {
    config: c.id,
    fault,
    formula: expected.formula,
    expected: { minMs: round(expected.minMs), maxMs: round(expected.maxMs), slackMs: OBSERVATION_SLACK_MS, pointMs: round(pointMs) },
    samples,
    measured: summarize(values),
    errorVsFormula: summarize(values.map((v) => v - pointMs)),
    inWindow: values.filter((v) => v >= expected.minMs && v <= expected.maxMs).length,
    failures: samples.filter((s) => s.verdict !== "pass").length,
    loadDuring: summarize(samples.map((s) => s.load1), 2),
  };
  if (fault === "power-off") {
    const positions = values.map((v) => (v - (mdi - c.advertIntMs)) / c.advertIntMs);
    result.windowPosition = { ...summarize(positions, 3), ksDistanceToUniform: ksUniform(positions) };
  }
  return result;
}

/** n samples of each fault for one configuration; a lab removed from under it is replaced (at most twice). */
async function measureConfig(c: TimingConfig, faults: FaultName[], n: number): Promise<FaultResultSummary[]> {
  const samples = new Map<FaultName, Sample[]>(faults.map((f) => [f, []]));
  for (let attempt = 0; faults.some((f) => samples.get(f)!.length < n); attempt++) {
    try {
      await using lab = await startLab(topologyFor(c));
      await lab.waitForSteadyState(40_000);
      for (const fault of faults) {
        const got = samples.get(fault)!;
        while (got.length < n) got.push(await takeSample(lab, c, fault, `${c.id} ${fault} #${got.length + 1}`));
      }
      await settle(lab, lab.instance().vips[0]!, c.advertIntMs).catch(() => undefined);
    } catch (err) {
      if (attempt >= 2) throw err;
      say(`timing: ${c.id}: ${(err as Error).message.split("\n")[0]} — starting the lab again, keeping the samples so far`);
    }
  }
  return faults.map((f) => summarizeFault(c, f, samples.get(f)!));
}

export async function benchTiming(options: { n?: number; only?: string[]; faults?: FaultName[] } = {}): Promise<FaultResultSummary[]> {
  const n = options.n ?? 10;
  const machine = await describeMachine();
  const faults = options.faults ?? ["power-off", "graceful-stop"];
  // With --only, the other configurations' results of an earlier run are kept.
  const earlier = options.only ? await readFile(join(RESULTS_DIR, "timing.json"), "utf8").then((t) => (JSON.parse(t) as { results: FaultResultSummary[] }).results, () => []) : [];
  const results: FaultResultSummary[] = earlier.filter((r) => !options.only!.includes(r.config));
  const save = () =>
    writeResult("timing", machine, {
      method: "one lab per configuration, the fault repeated N times; measured from FaultResult.effectMs to the backup's VIP acquisition (migrationTime checker, anchor effect)",
      n,
      results,
    });
  for (const c of CONFIGS.filter((x) => !options.only || options.only.includes(x.id))) {
    say(`timing: ${c.id} (VRRPv${c.version}, advert ${c.advertIntMs} ms, priorities ${c.master}/${c.backup}), ${n} samples per fault`);
    for (const r of await measureConfig(c, faults, n)) {
      results.push(r);
      say(`timing: ${c.id} ${r.fault}: ${fmtSummary(r.measured)}; error vs formula ${fmtSummary(r.errorVsFormula)}; ${r.inWindow}/${r.samples.length} in [${r.expected.minMs}, ${r.expected.maxMs}]`);
      if (r.windowPosition) say(`        position in [MDI − advert, MDI]: median ${r.windowPosition.median}, min ${r.windowPosition.min}, max ${r.windowPosition.max}; KS distance to uniform ${r.windowPosition.ksDistanceToUniform}`);
    }
    await save();
  }
  say(`timing: wrote ${await save()}`);
  return results;
}

if (isMain(import.meta)) {
  const { values } = parseArgs({ options: { n: { type: "string" }, only: { type: "string" }, faults: { type: "string" } } });
  await benchTiming({
    n: values.n ? Number(values.n) : 10,
    ...(values.only ? { only: values.only.split(",") } : {}),
    ...(values.faults ? { faults: values.faults.split(",") as FaultName[] } : {}),
  });
}
