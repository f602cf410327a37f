/**
 * The offset between this process's realtime clock and an engine kernel's, for engines that run on
 * another kernel (runtime/pace.ts `sharedClock: false`). A node prints its realtime clock every
 * 250 ms on a streamed exec; each line, read here on arrival, gives `host − node = offset + delay`
 * with the one-way delay ≥ 0, so the smallest value over the last samples is the offset plus the
 * smallest delay seen (a few ms through qemu's user network and the engine's API). Stamps placed
 * with it are late by at most that much, and intervals between two in-node stamps are exact.
 * The window slides, so a guest clock that drifts is followed.
 */
import type { EngineClock } from "../history/clock.ts";
import { parseEpochRealtime } from "../history/clock.ts";
import type { LabNode, LineStream } from "../runtime/node-container.ts";

const WINDOW = 120; // samples: 30 s at 4 per second

export interface ClockSyncState {
  /** host − engine, in µs, as used now. */
  offsetUs: number;
  samples: number;
  /** Spread of the window's values (largest − smallest), µs: the delays seen. */
  spreadUs: number;
}

export class ClockSync {
  private readonly clock: EngineClock;
  private stream: LineStream | undefined;
  private readonly window: number[] = [];
  private count = 0;
  private readonly waiters: Array<{ n: number; resolve: () => void }> = [];

  constructor(clock: EngineClock) {
    this.clock = clock;
  }

  /** Start reading `node`'s clock; resolves once `samples` samples are in (the offset is then set). */
  async start(node: LabNode, samples = 8): Promise<void> {
    // `read -t` on a pipe nobody writes to waits without forking a `sleep` each time.
    this.stream = await node.stream(["bash", "-c", "exec 9<> <(:); while :; do echo \"$EPOCHREALTIME\"; read -t 0.25 -u 9; done"]);
    const stream = this.stream;
    void (async () => {
      for await (const line of stream.lines) {
        const nodeUs = parseEpochRealtime(line);
        if (nodeUs === undefined) continue;
        // This process's realtime clock, as MonotonicClock reads it (timeOrigin + the monotonic now).
        const hostUs = (performance.timeOrigin + performance.now()) * 1000;
        this.add(hostUs - nodeUs);
      }
    })().catch(() => undefined);
    await new Promise<void>((resolve) => {
      if (this.count >= samples) resolve();
      else this.waiters.push({ n: samples, resolve });
    });
  }

  state(): ClockSyncState {
    const min = Math.min(...this.window);
    return { offsetUs: this.clock.engineOffsetUs ?? 0, samples: this.count, spreadUs: this.window.length ? Math.max(...this.window) - min : 0 };
  }

  stop(): void {
    this.stream?.close();
    this.stream = undefined;
  }

  private add(value: number): void {
    this.window.push(value);
    if (this.window.length > WINDOW) this.window.shift();
    this.count++;
    this.clock.setEngineOffset(Math.round(Math.min(...this.window)));
    for (const w of [...this.waiters]) {
      if (this.count >= w.n) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  }
}
