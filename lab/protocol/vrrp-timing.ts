/**
 * VRRP timers, the one place where the lab's expected timings come from.
 *
 * VRRPv2, RFC 3768 §6.1:
 *   Skew_Time            = (256 − Priority) / 256                      seconds
 *   Master_Down_Interval = 3 × Advertisement_Interval + Skew_Time
 * VRRPv3, RFC 5798 §6.1 (intervals in centiseconds):
 *   Skew_Time            = ((256 − Priority) × Master_Adver_Interval) / 256
 *   Master_Down_Interval = 3 × Master_Adver_Interval + Skew_Time
 *
 * Note the difference: in v2 the skew does not scale with the advertisement interval. keepalived
 * implements exactly this (vrrp.h, VRRP_TIMER_SKEW: v2 uses TIMER_HZ, v3 the master's interval), so
 * with `advert_int 2` (as in one source tutorial) the skew of priority 100 is 0.609 s, not 1.219 s.
 *
 * "Priority" is the backup's own priority (the one whose timer runs), after track-script weights.
 *
 * What a backup does, per the RFCs (RFC 5798 §6.4.2):
 *   - an ADVERTISEMENT with priority 0 (the master stopping gracefully, or going to FAULT) sets its
 *     Master_Down_Timer to Skew_Time;
 *   - no ADVERTISEMENT at all (power off, freeze, firewalled VRRP): the timer, restarted on the last
 *     advert received, expires Master_Down_Interval after that advert. The fault lands somewhere in
 *     the advert period, so fault → takeover lies in [Master_Down_Interval − Advertisement_Interval,
 *     Master_Down_Interval].
 *   - a preempting node (not nopreempt) that hears a lower-priority master discards its adverts and
 *     takes over when its own Master_Down_Timer expires: Master_Down_Interval after it began
 *     listening (plus preempt_delay); a node starting in MASTER state sends adverts at once.
 */

export type VrrpVersion = 2 | 3;

export interface VrrpTimerInput {
  version: VrrpVersion;
  /** Advertisement interval in milliseconds (v2: whole seconds only). */
  advertIntMs: number;
  /** The priority of the backup whose timer decides, after track-script weights. */
  backupPriority: number;
}

export function skewTimeMs({ version, advertIntMs, backupPriority }: VrrpTimerInput): number {
  const p = clampPriority(backupPriority);
  return version === 2 ? ((256 - p) * 1000) / 256 : ((256 - p) * advertIntMs) / 256;
}

export function masterDownIntervalMs(input: VrrpTimerInput): number {
  return 3 * input.advertIntMs + skewTimeMs(input);
}

function clampPriority(p: number): number {
  if (!Number.isFinite(p)) throw new RangeError(`priority must be a number, got ${p}`);
  return Math.min(255, Math.max(1, Math.round(p)));
}

/**
 * Slack for what the protocol does not model. Windows are measured from when a fault took effect in
 * the node (the signal sent, stamped in the node; the node's death or start, timed by the engine),
 * so the engine's API latency is not in them; what remains is keepalived's timer and script
 * scheduling, the delivery of one advert on the bridge, and the stamping of the address change —
 * and the anchor's own error, which goes either way: the engine records a death when it has reaped
 * the process, after the SIGKILL; a starved master's last advert leaves late. So the slack widens
 * both ends of every window. It is the same for every expectation, stated here once, and reported
 * next to every expected figure.
 */
export const OBSERVATION_SLACK_MS = 250;

export interface ExpectedWindow {
  minMs: number;
  maxMs: number;
  /** The formula with its numbers, for the report. */
  formula: string;
}

/** Fault → VIP on the backup when the master falls silent (power off, freeze, VRRP blocked). */
export function expectedSilentFailover(input: VrrpTimerInput): ExpectedWindow {
  const mdi = masterDownIntervalMs(input);
  const skew = skewTimeMs(input);
  return {
    minMs: Math.max(0, mdi - input.advertIntMs - OBSERVATION_SLACK_MS),
    maxMs: mdi + OBSERVATION_SLACK_MS,
    formula:
      `Master_Down_Interval = 3 × ${fmt(input.advertIntMs)} + Skew_Time ${fmt(skew)} = ${fmt(mdi)} ` +
      `(VRRPv${input.version}, backup priority ${input.backupPriority}); the fault falls within one advert interval, ` +
      `so [${fmt(mdi - input.advertIntMs)}, ${fmt(mdi)}] ± ${OBSERVATION_SLACK_MS} ms observation slack`,
  };
}

/** Fault → VIP on the backup when the master says goodbye (priority-0 advert: graceful stop, FAULT). */
export function expectedGracefulFailover(input: VrrpTimerInput): ExpectedWindow {
  const skew = skewTimeMs(input);
  return {
    minMs: Math.max(0, skew - OBSERVATION_SLACK_MS),
    maxMs: skew + OBSERVATION_SLACK_MS,
    formula:
      `Skew_Time = (256 − ${input.backupPriority})${input.version === 3 ? ` × ${fmt(input.advertIntMs)} / 256` : "/256 s"} = ${fmt(skew)} ` +
      `(VRRPv${input.version}, priority-0 advert) ± ${OBSERVATION_SLACK_MS} ms observation slack`,
  };
}

/**
 * A recovered higher-priority node (preempt on) → VIP back on it. It starts as BACKUP, hears the
 * lower-priority master, ignores it, and takes over when its own Master_Down_Timer expires.
 *
 * `startedMs`: when its keepalived entered BACKUP, as measured (ms after the anchor). The timer
 * starts then, and the lower-priority adverts it discards never reset it, so the takeover comes
 * Master_Down_Interval later: [startedMs + MDI − slack, startedMs + MDI + preempt_delay + slack].
 * `bootMs` instead only bounds the start from above (a script's rise, a start not seen): the
 * window then starts at 0.
 */
export function expectedPreemption(input: VrrpTimerInput & { preemptDelayMs?: number; bootMs?: number; startedMs?: number }): ExpectedWindow {
  const mdi = masterDownIntervalMs(input);
  const delay = input.preemptDelayMs ?? 0;
  const delayText = delay ? ` + preempt_delay ${fmt(delay)}` : "";
  if (input.startedMs !== undefined) {
    const at = input.startedMs + mdi;
    return {
      minMs: Math.max(0, at - OBSERVATION_SLACK_MS),
      maxMs: at + delay + OBSERVATION_SLACK_MS,
      formula:
        `keepalived in BACKUP at ${fmt(input.startedMs)} + Master_Down_Interval ${fmt(mdi)} of the recovering node (priority ${input.backupPriority})` +
        `${delayText} = ${fmt(at + delay)} ± ${OBSERVATION_SLACK_MS} ms observation slack`,
    };
  }
  const boot = input.bootMs ?? 0;
  return {
    minMs: 0,
    maxMs: boot + mdi + delay + OBSERVATION_SLACK_MS,
    formula:
      `keepalived start (≤ ${fmt(boot)}) + Master_Down_Interval ${fmt(mdi)} of the recovering node (priority ${input.backupPriority})` +
      `${delayText} + ${OBSERVATION_SLACK_MS} ms observation slack`,
  };
}

function fmt(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(3)} s` : `${ms.toFixed(1)} ms`;
}

export interface TrackScriptInput extends VrrpTimerInput {
  /** The master's configured priority. */
  masterPriority: number;
  /** vrrp_script: run every `intervalMs`, failed after `fall` consecutive failures, `weight` applied while failing. */
  intervalMs: number;
  fall: number;
  weight: number;
}

/**
 * Fault (the tracked process dies) → VIP on the backup, when a track script notices. The script
 * runs every interval; its first failing run comes within one interval of the fault, and it is
 * declared failed `fall − 1` intervals later: detection ∈ ((fall − 1) × interval, fall × interval].
 *  - weight 0: the instance enters FAULT and sends priority 0, so the backup waits Skew_Time;
 *  - weight < 0 and master + weight below the backup: the master keeps advertising, with the lower
 *    priority, which the preempting backup discards, so its timer runs out Master_Down_Interval
 *    after the last advert with the old priority (within one advert interval before detection).
 * Returns undefined when the weight does not bring the master below the backup (no failover).
 */
export function expectedTrackScriptFailover(input: TrackScriptInput): ExpectedWindow | undefined {
  const lo = (input.fall - 1) * input.intervalMs;
  const hi = input.fall * input.intervalMs;
  const detection = `detection after ${input.fall} failing run(s) every ${fmt(input.intervalMs)}: (${fmt(lo)}, ${fmt(hi)}]`;
  if (input.weight === 0) {
    const skew = skewTimeMs(input);
    return {
      minMs: Math.max(0, lo + skew - OBSERVATION_SLACK_MS),
      maxMs: hi + skew + OBSERVATION_SLACK_MS,
      formula: `${detection}; weight 0 → FAULT, priority-0 advert → Skew_Time ${fmt(skew)} (backup priority ${input.backupPriority}) ± ${OBSERVATION_SLACK_MS} ms observation slack`,
    };
  }
  const lowered = input.masterPriority + input.weight;
  if (input.weight > 0 || lowered >= input.backupPriority) return undefined;
  const mdi = masterDownIntervalMs(input);
  return {
    minMs: Math.max(0, lo + mdi - input.advertIntMs - OBSERVATION_SLACK_MS),
    maxMs: hi + mdi + OBSERVATION_SLACK_MS,
    formula:
      `${detection}; priority ${input.masterPriority} ${input.weight} = ${lowered} < backup ${input.backupPriority}, whose ` +
      `Master_Down_Interval ${fmt(mdi)} runs from the last advert before detection (≤ ${fmt(input.advertIntMs)} earlier) ± ${OBSERVATION_SLACK_MS} ms observation slack`,
  };
}

/**
 * The tutorials' "restart nginx, else stop keepalived" script, with nginx unable to start: its next
 * run (within one interval) finds nginx gone, tries to start it, sleeps `sleepMs`, then stops
 * keepalived gracefully; the backup takes over Skew_Time after the priority-0 advert.
 */
export function expectedRestartOrStopFailover(input: VrrpTimerInput & { intervalMs: number; sleepMs: number }): ExpectedWindow {
  const skew = skewTimeMs(input);
  return {
    minMs: Math.max(0, input.sleepMs + skew - OBSERVATION_SLACK_MS),
    maxMs: input.intervalMs + input.sleepMs + skew + OBSERVATION_SLACK_MS,
    formula:
      `next script run (≤ ${fmt(input.intervalMs)}) + its sleep ${fmt(input.sleepMs)} + graceful stop → Skew_Time ${fmt(skew)} ` +
      `(backup priority ${input.backupPriority}) ± ${OBSERVATION_SLACK_MS} ms observation slack`,
  };
}

/**
 * A frozen master thawed: it still believes it is master, and its overdue advert timer fires at once
 * or within one interval. The backup that took over hears the higher priority and steps down on
 * receipt (RFC 5798 §6.4.3: a Master receiving a higher-priority ADVERTISEMENT transitions to Backup).
 */
export function expectedResumedMasterPreemption(input: VrrpTimerInput): ExpectedWindow {
  return {
    minMs: 0,
    maxMs: input.advertIntMs + OBSERVATION_SLACK_MS,
    formula: `the thawed master's next advert (≤ one advert interval, ${fmt(input.advertIntMs)}) makes the current master step down + ${OBSERVATION_SLACK_MS} ms observation slack`,
  };
}

/**
 * Two masters (split brain) healed: each now hears the other's adverts, and the one that loses the
 * comparison — lower priority, or equal priority and the lower primary address (RFC 5798 §6.4.3) —
 * steps down on the first such advert, which comes within one advert interval.
 */
export function expectedSplitBrainResolution(input: Pick<VrrpTimerInput, "advertIntMs">): ExpectedWindow {
  return {
    minMs: 0,
    maxMs: input.advertIntMs + OBSERVATION_SLACK_MS,
    formula: `the losing master steps down at the winner's next advert (≤ one advert interval, ${fmt(input.advertIntMs)}; RFC 5798 §6.4.3) + ${OBSERVATION_SLACK_MS} ms observation slack`,
  };
}

export interface FlapExpectation {
  /** Adverts needed to be lost in a row for the backup's timer to run out: floor(MDI / interval). */
  lossesInARow: number;
  /** Expected number of flaps (takeovers by the backup). */
  mean: number;
  /** A central interval holding 99.9 % of Poisson(mean) counts, used as the tolerance. */
  low: number;
  high: number;
  formula: string;
}

/**
 * Flaps when each advert reaching the backup is dropped with probability p, independently, for
 * `durationMs`. The backup takes over when no advert arrives for its Master_Down_Interval after the
 * last one, i.e. after k = floor(MDI / interval) losses in a row; the flap ends at the next advert
 * that gets through. As a renewal process: adverts until k losses in a row follow a success,
 * E = (p^−k − 1)/(1 − p), plus a flap of 1/(1 − p) adverts, so flaps ≈ N / (E + 1/(1 − p)) for
 * N = duration / interval adverts. Counts are compared with the 99.9 % interval of a Poisson law with
 * that mean (renewal counts are less dispersed than Poisson, so the interval is conservative).
 */
export function expectedFlaps(input: VrrpTimerInput & { dropProbability: number; durationMs: number }): FlapExpectation {
  const p = input.dropProbability;
  if (!(p > 0 && p < 1)) throw new RangeError(`drop probability must be in (0, 1), got ${p}`);
  const mdi = masterDownIntervalMs(input);
  const k = Math.floor(mdi / input.advertIntMs);
  const n = input.durationMs / input.advertIntMs;
  const run = (p ** -k - 1) / (1 - p);
  const mean = n / (run + 1 / (1 - p));
  const [low, high] = poissonInterval(mean, 0.999);
  return {
    lossesInARow: k,
    mean,
    low,
    high,
    formula:
      `${k} adverts lost in a row (floor(Master_Down_Interval ${fmt(mdi)} / ${fmt(input.advertIntMs)})) at drop probability ${p}: ` +
      `≈ ${mean.toFixed(1)} flaps in ${fmt(input.durationMs)} (${n.toFixed(0)} adverts); 99.9 % Poisson interval [${low}, ${high}]`,
  };
}

/** The central interval holding `mass` of a Poisson(mean) law. */
export function poissonInterval(mean: number, mass: number): [number, number] {
  const tail = (1 - mass) / 2;
  let p = Math.exp(-mean);
  let cdf = p;
  let k = 0;
  let low: number | undefined = cdf >= tail ? 0 : undefined;
  while (cdf < 1 - tail && k < 10_000) {
    k++;
    p *= mean / k;
    cdf += p;
    if (low === undefined && cdf >= tail) low = k;
  }
  return [low ?? 0, k];
}
