/**
 * Exec pacing (lab/runtime/pace.ts) against the host's engine: a node on a paced engine runs at
 * most N execs at once, a timed-out exec is cancelled (its slot freed at once, the command killed
 * in the node), deploy() boots every node through the gate — and the host's own pace changes
 * nothing (no wrapper, no queue).
 */
import { describe, expect, it } from "vitest";
import { deploy } from "../lab/runtime/deployment.ts";
import { connectEngine, type Engine } from "../lab/runtime/engine.ts";
import { WaitTimeoutError } from "../lab/errors.ts";
import { type EnginePace, execGateFor, HOST_PACE } from "../lab/runtime/pace.ts";
import { twoNodeLab } from "./fixtures/two-node-lab.ts";

/** The host's engine, seen through a second API client with a slow engine's pace (one slot). */
async function pacedEngine(pace: Partial<EnginePace>): Promise<Engine> {
  const host = await connectEngine();
  const Dockerode = (await import("dockerode")).default;
  return { ...host, docker: new Dockerode(), pace: { ...HOST_PACE, ...pace } };
}

describe("exec pacing", () => {
  it("on a paced engine: deploy boots through the gate; execs queue; a timed-out one is cancelled and killed in the node", async () => {
    const engine = await pacedEngine({ execConcurrency: 1, timeScale: 1 });
    await using lab = await deploy(twoNodeLab("pace-gate", "10.213.164"), { engine });
    const gate = execGateFor(engine.docker, engine.pace!);
    const [a] = [...lab.nodes.values()];

    // One slot: the second exec starts only when the first has ended.
    const t0 = performance.now();
    const first = a!.exec(["sh", "-c", "sleep 1; echo first"]);
    const second = a!.exec(["sh", "-c", "echo second"]);
    expect(gate.waiting).toBe(1);
    expect((await first).stdout.trim()).toBe("first");
    expect((await second).stdout.trim()).toBe("second");
    expect(performance.now() - t0).toBeGreaterThanOrEqual(1000);

    // A command that overruns its timeout: rejected at the timeout, its slot free for the next at once,
    // and `timeout` ends it inside the node shortly after (timeout + 1 s, then KILL 2 s later at most).
    const t1 = performance.now();
    await expect(a!.exec(["sh", "-c", "exec sleep 31"], { timeoutMs: 500 })).rejects.toBeInstanceOf(WaitTimeoutError);
    expect(performance.now() - t1).toBeLessThan(2_000);
    expect(gate.active).toBe(0);
    const next = await a!.exec(["echo", "next"]);
    expect(next.stdout.trim()).toBe("next");
    let left = "";
    for (let i = 0; i < 40; i++) {
      left = (await a!.exec(["sh", "-c", "pgrep -fx 'sleep 31' || true"])).stdout.trim();
      if (!left) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(left).toBe("");
  });

  it("on the host's pace: no wrapper around the command and no queue", async () => {
    const engine = await connectEngine();
    expect(engine.pace ?? HOST_PACE).toBe(HOST_PACE);
    await using lab = await deploy(twoNodeLab("pace-host", "10.213.165"), { engine });
    const [a] = [...lab.nodes.values()];
    // The command is the exec's own process, not a child of `timeout`.
    const parent = await a!.exec(["sh", "-c", "cat /proc/$PPID/comm 2>/dev/null || echo none"]);
    expect(parent.stdout.trim()).not.toBe("timeout");
    const t0 = performance.now();
    await Promise.all([1, 2, 3, 4].map(() => a!.exec(["sleep", "1"])));
    expect(performance.now() - t0).toBeLessThan(3_000);
  });
});
