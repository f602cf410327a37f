/**
 * The lab's one clock. Every time in a history is milliseconds since the lab started, read from
 * the monotonic clock (`process.hrtime`), so wall-clock steps never distort a measured interval.
 *
 * Containers share the host kernel, so a timestamp taken inside a container from the realtime clock
 * (bash's $EPOCHREALTIME) is the same clock the host reads. `fromEpochMicros` maps such a stamp onto
 * the monotonic timeline with the realtime↔monotonic offset sampled once at the origin.
 */
export interface Clock {
  /** Milliseconds since the lab's origin (fractional). */
  nowMs(): number;
  /** Map a realtime stamp in microseconds since the Unix epoch to lab milliseconds. */
  fromEpochMicros(epochMicros: number): number;
  /** Wall-clock time of the origin, for display only. */
  readonly startedAt: Date;
}

export class MonotonicClock implements Clock {
  private readonly originNs: bigint;
  private readonly originEpochMs: number;
  readonly startedAt: Date;

  constructor() {
    this.originNs = process.hrtime.bigint();
    // performance.timeOrigin + performance.now() is the sub-millisecond wall clock at this instant.
    this.originEpochMs = performance.timeOrigin + performance.now();
    this.startedAt = new Date(this.originEpochMs);
  }

  nowMs(): number {
    return Number(process.hrtime.bigint() - this.originNs) / 1e6;
  }

  fromEpochMicros(epochMicros: number): number {
    return epochMicros / 1000 - this.originEpochMs;
  }
}

/** A clock for unit tests: time moves only when told to. */
export class ManualClock implements Clock {
  readonly startedAt = new Date(0);
  private now = 0;
  nowMs(): number {
    return this.now;
  }
  fromEpochMicros(epochMicros: number): number {
    return epochMicros / 1000;
  }
  advance(ms: number): void {
    this.now += ms;
  }
}

/** Parse bash's $EPOCHREALTIME ("1732212345.123456") to integer microseconds. */
export function parseEpochRealtime(text: string): number | undefined {
  const m = /^(\d+)[.,](\d{1,6})$/.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * 1e6 + Number(m[2]!.padEnd(6, "0"));
}

/**
 * The lab's clock when its nodes run on another kernel (an engine in a qemu guest, or on another
 * machine): their realtime clock is not this process's, so an in-node stamp is first moved by the
 * measured offset between the two (workload/clock-sync.ts) and then placed like any other. Until
 * an offset is measured it is 0.
 */
export class EngineClock extends MonotonicClock {
  private offsetUs = 0;
  private measured = false;

  /** This process's realtime clock minus the engine kernel's, in µs. */
  setEngineOffset(offsetUs: number): void {
    this.offsetUs = offsetUs;
    this.measured = true;
  }

  get engineOffsetUs(): number | undefined {
    return this.measured ? this.offsetUs : undefined;
  }

  override fromEpochMicros(epochMicros: number): number {
    return super.fromEpochMicros(epochMicros + this.offsetUs);
  }
}
