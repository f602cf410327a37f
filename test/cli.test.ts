/**
 * The command line against a real engine: bad input stops with exit 2 naming the field or the line
 * and starts no lab container; `run` writes the report and exits by the checks; `up` and `down`.
 */
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { connectEngine } from "../lab/runtime/engine.ts";
import { LABEL } from "../lab/runtime/labels.ts";

const CLI = join(import.meta.dirname, "..", "bin", "failover-lab.js");
const FIXTURES = join(import.meta.dirname, "fixtures", "topologies");
const cli = (...args: string[]) => execa(process.execPath, [CLI, "-q", ...args], { reject: false });

async function labContainers(lab: string): Promise<number> {
  const { docker } = await connectEngine();
  const all = await docker.listContainers({ all: true, filters: { label: [`${LABEL.lab}=${lab}`] } });
  return all.filter((c) => c.Labels[LABEL.role] !== "config-check").length;
}

describe("bad input: exit 2, the field or line named with the fix, no container started", () => {
  const cases: Array<[file: string, lab: string, expected: RegExp[]]> = [
    ["vip-outside-subnet.lab.yml", "bad-vip", [/keepalived\.instances\.VI_1\.vips\.0: 10\.213\.78\.100 is outside the lab subnet 10\.213\.77\.0\/24/, /vip-outside-subnet\.lab\.yml:7/]],
    ["same-vrid.lab.yml", "bad-vrid", [/keepalived\.instances\.VI_2\.virtualRouterId: VRID 51 is already used by VI_1/, /same-vrid\.lab\.yml:5/]],
    ["long-auth.lab.yml", "bad-auth", [/auth\.pass: is 9 characters; keepalived keeps only the first 8/, /fix: use at most 8 characters/]],
    ["nopreempt-master.lab.yml", "bad-nopreempt", [/states\.lb1: nopreempt only works with state BACKUP/]],
    ["subsecond-v2.lab.yml", "bad-advert", [/advertInt: 0\.5 s is not possible with VRRP version 2/, /keepalived\.version: 3/]],
    ["unknown-field.lab.yml", "bad-field", [/nginx\.upstreams: unknown field `upstreams`/, /did you mean `upstream`\?/, /unknown-field\.lab\.yml:4/]],
  ];
  for (const [file, lab, expected] of cases) {
    it(file, async () => {
      const r = await cli("up", join(FIXTURES, file));
      expect(r.exitCode).toBe(2);
      for (const pattern of expected) expect(r.stderr).toMatch(pattern);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(await labContainers(lab)).toBe(0);
    });
  }

  it("a bring-your-own keepalived.conf that fails --config-test: the user's file and line, no lab container", async () => {
    const r = await cli("up", join(FIXTURES, "byo-broken.lab.yml"));
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/byo-backup-broken\.conf:10: keepalived --config-test on lb2: Unknown keyword 'not_a_keepalived_keyword'/);
    expect(await labContainers("byo-broken")).toBe(0);
    const { docker } = await connectEngine();
    expect((await docker.listContainers({ all: true, filters: { label: [`${LABEL.lab}=byo-broken`] } })).length).toBe(0);
  });

  it("an unknown scenario lists the known ones", async () => {
    const r = await cli("run", "no-such-scenario");
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/There is no scenario "no-such-scenario". Scenarios: .*power-off/);
  });
});

describe("up, render and down", () => {
  it("brings a bring-your-own lab up with its placeholders filled, prints nodes and VIPs, and removes it", async () => {
    const rendered = await cli("render", join(FIXTURES, "byo-ok.lab.yml"), "--subnet", "10.213.90.0/24", "--node", "lb2");
    expect(rendered.exitCode).toBe(0);
    expect(rendered.stdout).toContain("interface eth0");
    expect(rendered.stdout).toContain("10.213.90.100/24");

    const up = await cli("up", join(FIXTURES, "byo-ok.lab.yml"));
    try {
      expect(up.exitCode, up.stderr).toBe(0);
      expect(up.stdout).toMatch(/lab byo-ok is up on 10\.213\.\d+\.0\/24/);
      expect(up.stdout).toMatch(/VIP 10\.213\.\d+\.100 \(VI_1, VRID 51\) held by lb1/);
      expect(await labContainers("byo-ok")).toBe(4);
    } finally {
      const down = await cli("down", "byo-ok");
      expect(down.exitCode).toBe(0);
      expect(down.stdout).toMatch(/removed lab byo-ok: 4 container\(s\)/);
    }
    expect(await labContainers("byo-ok")).toBe(0);
  });
});

describe("run", () => {
  it("runs a scenario, writes the report JSON and exits 0 when every check passes", async () => {
    const json = join(tmpdir(), `failover-lab-report-${process.pid}.json`);
    try {
      const r = await cli("run", "graceful-stop", "--json", json);
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^graceful-stop: PASS/m);
      const report = JSON.parse(await readFile(json, "utf8"));
      expect(report.schema).toBe("failover-lab/report@1");
      expect(report.scenario).toBe("graceful-stop");
      expect(report.verdict).toBe("pass");
      expect(report.faults).toEqual([expect.objectContaining({ kind: "stop-keepalived", node: "lb1", outcome: "ok" })]);
      expect(report.vipEvents.some((e: { node: string; event: string }) => e.node === "lb2" && e.event === "acquired")).toBe(true);
      expect(report.vrrpTransitions.some((t: { node: string; to: string }) => t.node === "lb2" && t.to === "MASTER")).toBe(true);
      expect(report.requests.total).toBeGreaterThan(500);
      expect(typeof report.figures.migrationMs).toBe("number");
      expect(await labContainers("graceful-stop")).toBe(0);
    } finally {
      await rm(json, { force: true });
    }
  });
});
