/**
 * How the lab paces its work on one engine. The host's engine runs a `docker exec` in tens of
 * milliseconds and takes as many at once as the lab sends: no limit, no scaling — nothing here
 * touches that path. An engine in a TCG guest (runtime/guest/) takes 1–2 s per exec, 6–9 s when
 * five run at once, and its dockerd stops answering when abandoned execs pile up; so on such an
 * engine execs queue for a few slots, their timeouts are scaled, and one that times out is
 * cancelled: its API connection is closed and the command is killed inside the node by `timeout`.
 */

export interface EnginePace {
  /** Most execs running at once on the engine; the others wait their turn (FIFO). Infinity: no limit. */
  execConcurrency: number;
  /** Multiplier for exec timeouts and boot waits. */
  timeScale: number;
  /**
   * What the engine adds to every observed timing (a guest's timers fire late when its emulated CPUs
   * are busy), stated next to every expected figure; 0 for the host.
   */
  slack: { ms: number; why: string };
  /**
   * Whether the engine's containers read this process's realtime clock (same kernel). When not, the
   * lab measures the offset between the two before it places in-node stamps on its timeline.
   */
  sharedClock: boolean;
  /** Whether this process can reach the lab network's addresses (a local engine's bridge). */
  reachesLabNetwork: boolean;
}

/** The host's own engine: no limit, no scaling, same kernel clock, the lab bridge is local. */
export const HOST_PACE: EnginePace = {
  execConcurrency: Number.POSITIVE_INFINITY,
  timeScale: 1,
  slack: { ms: 0, why: "" },
  sharedClock: true,
  reachesLabNetwork: true,
};

/** Admits at most `limit` tasks at once, the rest in arrival order. */
export class ExecGate {
  readonly limit: number;
  private running = 0;
  private readonly queue: Array<() => void> = [];

  constructor(limit: number) {
    if (!(limit >= 1)) throw new RangeError(`Expected the exec limit to be at least 1, got ${limit}`);
    this.limit = limit;
  }

  get active(): number {
    return this.running;
  }

  get waiting(): number {
    return this.queue.length;
  }

  /** Run `task` when a slot is free; the slot is released however it ends. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.limit === Number.POSITIVE_INFINITY) return task();
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.queue.push(resolve));
    else this.running++;
    try {
      return await task();
    } finally {
      const next = this.queue.shift();
      if (next) next(); // the slot passes straight to the next task
      else this.running--;
    }
  }
}

const gates = new WeakMap<object, ExecGate>();

/** The one gate of an engine (keyed by its API client), shared by every node on it. */
export function execGateFor(engineClient: object, pace: EnginePace): ExecGate {
  let gate = gates.get(engineClient);
  if (!gate) {
    gate = new ExecGate(pace.execConcurrency);
    gates.set(engineClient, gate);
  }
  return gate;
}

/**
 * An engine's pace: the one it was given (the guest's), else the host's for a local socket, else —
 * an engine elsewhere, reached over TCP — the host's speed but another kernel's clock, and a lab
 * network this process cannot reach.
 */
export function paceOf(engine: { endpoint: string; pace?: EnginePace | undefined }): EnginePace {
  if (engine.pace) return engine.pace;
  if (engine.endpoint.startsWith("unix://")) return HOST_PACE;
  return { ...HOST_PACE, sharedClock: false, reachesLabNetwork: false };
}
