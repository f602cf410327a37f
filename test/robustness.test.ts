/**
 * Robustness under faults of our own: the runner interrupted (SIGINT, SIGTERM) or killed (SIGKILL),
 * two labs at once on one engine, and a node that stops answering. Nothing leaks, nothing hangs,
 * and every message says what was interrupted or awaited. (Hostile input: hostile-input.test.ts;
 * the 20× repetition of every failover scenario: `npm run soak`.)
 */
import { describe, expect, it } from "vitest";
import { WaitTimeoutError } from "../lab/errors.ts";
import type { Lab } from "../lab/lab.ts";
import { startLab } from "../lab/lab.ts";
import { loadScenario } from "../lab/scenario/catalog.ts";
import { runScenario } from "../lab/scenario/run.ts";
import { labLeftovers, startCli } from "./fixtures/cli-process.ts";

const FAULT_OP = /"f":"fault"/;

describe("interrupted: containers and networks removed, exit 130/143, the message names what was interrupted", () => {
  it("SIGINT in the middle of `run power-off` (after its fault)", async () => {
    const lab = "robust-int-run";
    const p = startCli(["run", "power-off", "--name", lab, "--no-store", "--output", "jsonl"]);
    await p.waitFor(FAULT_OP, 120_000);
    expect((await labLeftovers(lab)).containers.length).toBe(4);
    p.child.kill("SIGINT");
    const { code } = await p.exit;
    expect(code, p.stderr()).toBe(130);
    expect(p.stderr()).toMatch(/interrupted by SIGINT during scenario power-off; removing the lab's containers and networks/);
    expect(p.stderr()).toMatch(/removed 4 container\(s\) and 1 network\(s\) of scenario power-off; exiting with 130/);
    expect(await labLeftovers(lab)).toEqual({ containers: [], networks: [] });
  });

  it("SIGTERM during start-up, while the daemons check the configuration (network reserved, no node yet)", async () => {
    const lab = "robust-int-start";
    const p = startCli(["run", "graceful-stop", "--name", lab, "--no-store"]);
    await p.waitFor(/Checking the configuration with the daemons themselves/, 120_000);
    p.child.kill("SIGTERM");
    const { code } = await p.exit;
    expect(code, p.stderr()).toBe(143);
    expect(p.stderr()).toMatch(/interrupted by SIGTERM during scenario graceful-stop/);
    // The work the signal cut short fails when its containers vanish; that is not news to print.
    expect(p.stderr()).not.toMatch(/^\s+at /m);
    expect(p.stderr()).not.toMatch(/HTTP code/);
    // The throwaway config-check containers and the reserved network went too.
    expect(await labLeftovers(lab)).toEqual({ containers: [], networks: [] });
  });

  it("SIGTERM in the middle of `demo`", async () => {
    const lab = "robust-int-demo";
    const p = startCli(["demo", "--name", lab, "--no-store", "--output", "jsonl"]);
    await p.waitFor(FAULT_OP, 120_000);
    p.child.kill("SIGTERM");
    const { code } = await p.exit;
    expect(code, p.stderr()).toBe(143);
    expect(p.stderr()).toMatch(/interrupted by SIGTERM during demo; removing the lab's containers and networks/);
    expect(await labLeftovers(lab)).toEqual({ containers: [], networks: [] });
  });
});

describe("crashed: the runner killed with SIGKILL", () => {
  it("leaves its lab behind, and the next run removes those leftovers before it starts", async () => {
    const lab = "robust-crash";
    const args = ["run", "graceful-stop", "--name", lab, "--no-store"];
    const killed = startCli([...args, "--output", "jsonl"]);
    await killed.waitFor(/"label":"steady state"/, 120_000);
    killed.child.kill("SIGKILL");
    expect((await killed.exit).signal).toBe("SIGKILL");
    const left = await labLeftovers(lab);
    expect(left.containers.sort()).toEqual([`${lab}-lb1`, `${lab}-lb2`, `${lab}-web1`, `${lab}-web2`]);
    expect(left.networks).toEqual([`failover-lab-${lab}`]);

    const next = startCli([...args, "--output", "json"]);
    const { code } = await next.exit;
    expect(next.stderr()).toMatch(new RegExp(`Removed leftovers of an interrupted run of lab ${lab} \\(run [0-9a-f]{8}\\): 4 container\\(s\\), 1 network\\(s\\)`));
    expect(code, next.stderr()).toBe(0);
    expect(JSON.parse(next.stdout()).verdict).toBe("pass");
    expect(await labLeftovers(lab)).toEqual({ containers: [], networks: [] });
  });
});

interface Capture {
  lab: Lab;
  lines: string[];
}

/** Every VRRP packet lb2 of the lab sees on its interface, as tcpdump prints it. */
function captureVrrp(into: Map<string, Capture>, key: string) {
  return (lab: Lab) => {
    const capture: Capture = { lab, lines: [] };
    into.set(key, capture);
    void (async () => {
      const stream = await lab.node("lb2").stream(["tcpdump", "-n", "-l", "-i", "eth0", "ip proto 112"]);
      for await (const line of stream.lines) capture.lines.push(line);
    })().catch(() => undefined);
  };
}

describe("isolation: two labs at once on one engine", () => {
  it("both pass, and neither sees the other's VRRP or VIP", async () => {
    const powerOff = await loadScenario("power-off");
    const gracefulStop = await loadScenario("graceful-stop");
    // Another VRID for the second lab (51 is the default).
    const second = { ...gracefulStop, topology: { name: "graceful-stop", keepalived: { instances: { VI_1: { virtualRouterId: 52, priorities: { lb1: 100, lb2: 90 } } } } } };
    const captures = new Map<string, Capture>();
    const [a, b] = await Promise.all([
      runScenario(powerOff, { name: "robust-iso-a", onLab: captureVrrp(captures, "a") }),
      runScenario(second, { name: "robust-iso-b", onLab: captureVrrp(captures, "b") }),
    ]);
    expect(a.report.verdict, JSON.stringify(a.report.checks.filter((c) => c.verdict !== "pass"))).toBe("pass");
    expect(b.report.verdict, JSON.stringify(b.report.checks.filter((c) => c.verdict !== "pass"))).toBe("pass");
    expect(a.lab.topology.subnetText).not.toBe(b.lab.topology.subnetText);

    for (const [self, other] of [["a", "b"], ["b", "a"]] as const) {
      const mine = captures.get(self)!;
      const theirs = captures.get(other)!;
      const myLbs = new Set(mine.lab.topology.lbs.map((n) => n.address));
      const myVrid = mine.lab.instance().vrid;
      const packets = mine.lines.flatMap((l) => {
        const m = /IP (\d+\.\d+\.\d+\.\d+) > (\S+?): VRRPv\d, Advertisement, vrid (\d+), prio (\d+)/.exec(l);
        return m ? [{ src: m[1]!, vrid: Number(m[3]) }] : [];
      });
      expect(packets.length, `lab ${self} captured no VRRP at all:\n${mine.lines.slice(0, 5).join("\n")}`).toBeGreaterThan(3);
      expect(packets.filter((p) => !myLbs.has(p.src) || p.vrid !== myVrid)).toEqual([]);
      const theirPrefix = theirs.lab.topology.subnetText.replace(/\.0\/24$/, ".");
      expect(mine.lines.filter((l) => l.includes(theirPrefix))).toEqual([]);
      // VIP events only involve the lab's own nodes and its own VIP.
      const report = self === "a" ? a.report : b.report;
      const myVip = mine.lab.instance().vips[0]!;
      expect(report.vipEvents.length).toBeGreaterThan(0);
      expect(report.vipEvents.filter((e) => !["lb1", "lb2"].includes(e.node) || e.vip !== myVip)).toEqual([]);
    }
    expect(await labLeftovers("robust-iso-a")).toEqual({ containers: [], networks: [] });
    expect(await labLeftovers("robust-iso-b")).toEqual({ containers: [], networks: [] });
  });
});

/** Run `fn`, expecting it to fail; returns the error and how long it took. */
async function failure(fn: () => Promise<unknown>): Promise<{ error: Error; ms: number }> {
  const t0 = performance.now();
  try {
    await fn();
  } catch (error) {
    return { error: error as Error, ms: performance.now() - t0 };
  }
  throw new Error("expected a failure, got success");
}

describe("hung daemons: a frozen node never hangs the runner", () => {
  it("faults and waits against a frozen node fail within their timeouts, naming what they waited for", async () => {
    const t0 = performance.now();
    {
      await using lab = await startLab({ name: "robust-frozen" });
      await lab.waitForSteadyState(30_000);
      const vip = lab.instance().vips[0]!;
      await lab.nemesis.inject("freeze", "lb1");

      // A fault that has to run a command in the node (labctl's timeout is 20 s).
      const kill = await failure(() => lab.nemesis.inject("kill-nginx", "lb1"));
      expect(kill.error.message).toMatch(/fault kill-nginx on lb1 failed: .*`labctl kill nginx` on node lb1/);
      expect(kill.ms).toBeLessThan(20_000 + 5_000);
      expect(lab.history.ops().some((o) => o.f === "fault" && o.type === "fail" && o.kind === "kill-nginx")).toBe(true);

      // A wait that cannot happen: the frozen node keeps the VIP in the kernel, so lb1 never holds it alone.
      const wait = await failure(() => lab.waitForVip(vip, "lb2", 8_000));
      expect(wait.error).toBeInstanceOf(WaitTimeoutError);
      expect(wait.error.message).toBe(`Timed out after 8000 ms waiting for VIP ${vip} held by lb2 alone (lab robust-frozen)`);
      expect(wait.ms).toBeLessThan(8_000 + 1_000);

      const steady = await failure(() => lab.waitForSteadyState(2_000));
      expect(steady.error).toBeInstanceOf(WaitTimeoutError);
      expect(steady.error.message).toMatch(/Timed out after 2000 ms waiting for .*\(lab robust-frozen\)/);
      expect(steady.ms).toBeLessThan(2_000 + 1_000);

      const read = await failure(() => lab.node("lb1").readFile("/var/log/lab/keepalived.log", 2_000));
      expect(read.error.message).toMatch(/`cat \/var\/log\/lab\/keepalived.log` on node lb1/);
      expect(read.ms).toBeLessThan(2_000 + 1_000);

      const logs = await lab.node("lb1").readTree("/var/log/lab", 10_000).then(
        (files) => ({ files: files.length, error: undefined }),
        (error: Error) => ({ files: 0, error }),
      );
      // The engine's archive API reads a paused container's files, or fails within the timeout; it never hangs.
      if (logs.error) expect(logs.error.message).toMatch(/\/var\/log\/lab on node lb1/);
      else expect(logs.files).toBeGreaterThan(0);
    }
    // Disposal removes the frozen node too, within a bound.
    expect(await labLeftovers("robust-frozen")).toEqual({ containers: [], networks: [] });
    expect(performance.now() - t0).toBeLessThan(180_000);
  });
});
