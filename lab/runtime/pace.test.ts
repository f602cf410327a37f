import { describe, expect, it } from "vitest";
import { ExecGate, execGateFor, HOST_PACE } from "./pace.ts";

const tick = () => new Promise((r) => setTimeout(r, 5));

describe("ExecGate", () => {
  it("runs at most `limit` tasks at once, the others in arrival order", async () => {
    const gate = new ExecGate(2);
    const started: number[] = [];
    const release: Array<() => void> = [];
    let peak = 0;
    const tasks = [0, 1, 2, 3, 4].map((i) =>
      gate.run(async () => {
        started.push(i);
        peak = Math.max(peak, gate.active);
        await new Promise<void>((r) => release.push(r));
        return i;
      }),
    );
    await tick();
    expect(started).toEqual([0, 1]);
    expect(gate.waiting).toBe(3);
    release.shift()!();
    await tick();
    expect(started).toEqual([0, 1, 2]);
    while (release.length) {
      release.shift()!();
      await tick();
    }
    expect(await Promise.all(tasks)).toEqual([0, 1, 2, 3, 4]);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(peak).toBe(2);
    expect(gate.active).toBe(0);
  });

  it("a failing task releases its slot", async () => {
    const gate = new ExecGate(1);
    await expect(gate.run(async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await gate.run(async () => "next")).toBe("next");
    expect(gate.active).toBe(0);
  });

  it("the host's pace has no limit: tasks run at once, not queued", async () => {
    const gate = execGateFor({}, HOST_PACE);
    let inside = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 50 }, () =>
        gate.run(async () => {
          inside++;
          peak = Math.max(peak, inside);
          await tick();
          inside--;
        }),
      ),
    );
    expect(peak).toBe(50);
    expect(gate.waiting).toBe(0);
  });

  it("one gate per engine client", () => {
    const client = {};
    const pace = { ...HOST_PACE, execConcurrency: 2 };
    expect(execGateFor(client, pace)).toBe(execGateFor(client, pace));
    expect(execGateFor({}, pace)).not.toBe(execGateFor(client, pace));
  });

  it("rejects a limit below 1", () => {
    expect(() => new ExecGate(0)).toThrow("at least 1, got 0");
  });
});
