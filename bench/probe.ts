/**
 * Probe capacity and time resolution.
 *
 * 1. The request stream (lab/workload/request-stream.ts) against the VIP of a running default lab, at
 *    rising rates for a few seconds each: achieved start rate, the client-side scheduling lag (when a
 *    request started vs. its slot in the open-loop schedule), outcomes, and whether every request was
 *    recorded. A rate is "sustained" when ≥ 97 % of the scheduled requests started, ≥ 99 % of them
 *    were answered ok, every one of them is an op in the history, and the p99 scheduling lag stays
 *    under 20 ms (the width of the narrowest bin a reader would look at). The ladder stops after the
 *    second rate that is not sustained. Every probe goes to the lab's own VIP on its bridge.
 * 2. The history's time resolution: the granularity and cost of the monotonic clock; in-node stamps
 *    ($EPOCHREALTIME, µs) placed on the timeline vs. the host's clock when the line arrives (delivery
 *    delay and its jitter); and the drift between realtime and monotonic over the run.
 *
 *   node bench/probe.ts [--seconds 5] [--rates 200,500,1000,…]
 */
import { parseArgs } from "node:util";
import type { RequestOp } from "../lab/history/ops.ts";
import { startLab, type Lab } from "../lab/lab.ts";
import { describeMachine, isMain, load, round, say, sleep, summarize, type Summary, writeResult } from "./lib.ts";

const DEFAULT_RATES = [200, 500, 1000, 1500, 2000, 3000, 4000, 6000];

export interface RateStep {
  targetPerSecond: number;
  seconds: number;
  scheduled: number;
  started: number;
  recorded: number;
  achievedPerSecond: number;
  okFraction: number;
  outcomes: Record<string, number>;
  /** ms a request started after its slot in the schedule. */
  lagMs: Summary & { p99: number };
  /** ms from start to end of the ok requests. */
  latencyMs: Summary & { p99: number };
  sustained: boolean;
  load1: number;
}

function p99(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return round(s[Math.min(s.length - 1, Math.ceil(0.99 * s.length) - 1)] ?? NaN, 2);
}

async function rateStep(lab: Lab, rate: number, seconds: number): Promise<RateStep> {
  const load1 = load()[0];
  const name = `probe-${rate}`;
  const stream = lab.requestStream({ name, ratePerSecond: rate, timeoutMs: 1000 });
  const t0 = lab.clock.nowMs();
  stream.start();
  await sleep(seconds * 1000);
  await stream.stop();
  const elapsed = (lab.clock.nowMs() - t0) / 1000;
  const ops = lab.history.ops().filter((o): o is RequestOp => o.f === "request" && o.stream === name);
  const starts = ops.map((o) => o.atMs).sort((a, b) => a - b);
  const period = 1000 / rate;
  const first = starts[0] ?? t0;
  // The k-th request's slot is first + k × period; started late by (start − slot).
  const lags = starts.map((s, k) => Math.max(0, s - (first + k * period)));
  const outcomes: Record<string, number> = {};
  for (const o of ops) outcomes[o.outcome] = (outcomes[o.outcome] ?? 0) + 1;
  const ok = ops.filter((o) => o.outcome === "ok");
  const scheduled = Math.floor((seconds * 1000) / period);
  const lagSummary = { ...summarize(lags, 2), p99: p99(lags) };
  const latencies = ok.map((o) => o.endMs - o.atMs);
  const step: RateStep = {
    targetPerSecond: rate,
    seconds,
    scheduled,
    started: stream.count,
    recorded: ops.length,
    achievedPerSecond: round(ops.length / elapsed, 1),
    okFraction: round(ok.length / Math.max(1, ops.length), 4),
    outcomes,
    lagMs: lagSummary,
    latencyMs: { ...summarize(latencies, 2), p99: p99(latencies) },
    sustained: stream.count >= 0.97 * scheduled && ops.length === stream.count && ok.length >= 0.99 * ops.length && lagSummary.p99 < 20,
    load1,
  };
  return step;
}

export interface ClockResolution {
  /** Smallest non-zero step between consecutive readings of clock.nowMs(), in µs. */
  granularityUs: number;
  /** Median cost of one reading, in ns. */
  readCostNs: number;
  /** In-node $EPOCHREALTIME stamps vs. the host's monotonic clock at arrival: arrival − stamp, ms. */
  inNodeStampDelayMs: Summary & { p99: number };
  /** Resolution of an in-node stamp. */
  inNodeStampResolutionUs: number;
  /** How far realtime and monotonic moved apart over the measurement (NTP slew), ms. */
  realtimeDriftMs: number;
  driftOverSeconds: number;
}

async function clockResolution(lab: Lab): Promise<ClockResolution> {
  const clock = lab.clock;
  // Granularity and cost.
  let minStep = Infinity;
  const n = 200_000;
  let prev = clock.nowMs();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const now = clock.nowMs();
    if (now > prev) minStep = Math.min(minStep, now - prev);
    prev = now;
  }
  const cost = Number(process.hrtime.bigint() - t0) / n;
  // In-node stamps, streamed as the observers stream keepalived's log and ip monitor.
  const node = lab.node("lb2");
  const stream = await node.stream(["bash", "-c", "for i in $(seq 1 200); do echo \"$EPOCHREALTIME\"; sleep 0.02; done"]);
  const delays: number[] = [];
  for await (const line of stream.lines) {
    const arrival = clock.nowMs();
    const m = /^(\d+)[.,](\d{6})$/.exec(line.trim());
    if (!m) continue;
    delays.push(arrival - clock.fromEpochMicros(Number(m[1]) * 1e6 + Number(m[2])));
  }
  stream.close();
  // Realtime vs. monotonic since the lab's origin.
  const drift = clock.fromEpochMicros((performance.timeOrigin + performance.now()) * 1000) - clock.nowMs();
  return {
    granularityUs: round(minStep * 1000, 3),
    readCostNs: round(cost, 0),
    inNodeStampDelayMs: { ...summarize(delays, 3), p99: p99(delays) },
    inNodeStampResolutionUs: 1,
    realtimeDriftMs: round(drift, 3),
    driftOverSeconds: round(clock.nowMs() / 1000, 1),
  };
}

export interface ProbeResult {
  steps: RateStep[];
  highestSustainedPerSecond: number | null;
  firstNotSustained: RateStep | null;
  clock: ClockResolution;
}

export async function benchProbe(options: { seconds?: number; rates?: number[] } = {}): Promise<ProbeResult> {
  const seconds = options.seconds ?? 5;
  const machine = await describeMachine();
  await using lab = await startLab({ name: "bench-probe" });
  await lab.waitForSteadyState(40_000);
  const clock = await clockResolution(lab);
  say(`clock: granularity ${clock.granularityUs} µs, read cost ${clock.readCostNs} ns; in-node stamp → host arrival median ${clock.inNodeStampDelayMs.median} ms (p99 ${clock.inNodeStampDelayMs.p99}, max ${clock.inNodeStampDelayMs.max}); realtime−monotonic drift ${clock.realtimeDriftMs} ms over ${clock.driftOverSeconds} s`);
  const steps: RateStep[] = [];
  let misses = 0;
  for (const rate of options.rates ?? DEFAULT_RATES) {
    const s = await rateStep(lab, rate, seconds);
    steps.push(s);
    say(
      `probe ${rate}/s: started ${s.started}/${s.scheduled}, recorded ${s.recorded}, achieved ${s.achievedPerSecond}/s, ok ${(s.okFraction * 100).toFixed(2)} %, ` +
        `lag p50 ${s.lagMs.median} p99 ${s.lagMs.p99} max ${s.lagMs.max} ms, latency p50 ${s.latencyMs.median} p99 ${s.latencyMs.p99} ms ${JSON.stringify(s.outcomes)} → ${s.sustained ? "sustained" : "NOT sustained"}`,
    );
    if (!s.sustained && ++misses >= 2) break;
    await sleep(1000);
  }
  const sustained = steps.filter((s) => s.sustained).map((s) => s.targetPerSecond);
  const result: ProbeResult = {
    steps,
    highestSustainedPerSecond: sustained.length ? Math.max(...sustained) : null,
    firstNotSustained: steps.find((s) => !s.sustained) ?? null,
    clock,
  };
  say(`probe: highest sustained rate ${result.highestSustainedPerSecond ?? "none"}/s`);
  const file = await writeResult("probe", machine, {
    method: `RequestStream against the default lab's VIP, ${seconds} s per rate, timeout 1000 ms, a new connection per request; sustained = ≥97 % of the schedule started, every request recorded, ≥99 % ok, p99 scheduling lag < 20 ms`,
    ...result,
  });
  say(`probe: wrote ${file}`);
  return result;
}

if (isMain(import.meta)) {
  const { values } = parseArgs({ options: { seconds: { type: "string" }, rates: { type: "string" } } });
  await benchProbe({
    seconds: values.seconds ? Number(values.seconds) : 5,
    ...(values.rates ? { rates: values.rates.split(",").map(Number) } : {}),
  });
}
