import { mkdtemp, readFile, readlink, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { acquired, history, vrrp } from "../checkers/test-history.ts";
import { LabError } from "../errors.ts";
import { buildReport } from "./report.ts";
import { type LogSource, RunFolder, runFolderName, runsRoot } from "./run-folder.ts";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "failover-lab-runs-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("runsRoot", () => {
  it("is the option, else FAILOVER_LAB_RUNS_DIR, else ./runs", () => {
    expect(runsRoot("/x/y", { FAILOVER_LAB_RUNS_DIR: "/env" })).toBe("/x/y");
    expect(runsRoot(undefined, { FAILOVER_LAB_RUNS_DIR: "/env" })).toBe("/env");
    expect(runsRoot(undefined, {})).toBe(join(process.cwd(), "runs"));
  });
});

describe("RunFolder", () => {
  const at = new Date("2026-11-21T20:34:12.345Z");

  it("names folders by UTC time and scenario, adds a suffix when taken, and links latest to the newest", async () => {
    expect(runFolderName("power-off", at)).toBe("20261121T203412Z-power-off");
    const a = await RunFolder.create("power-off", { root, now: at });
    const b = await RunFolder.create("power-off", { root, now: at });
    expect(a.path).toBe(join(root, "20261121T203412Z-power-off"));
    expect(b.path).toBe(join(root, "20261121T203412Z-power-off-2"));
    expect(await readlink(join(root, "latest"))).toBe("20261121T203412Z-power-off-2");
    expect((await stat(join(root, "latest"))).isDirectory()).toBe(true);
  });

  it("keeps the history, report, page, configs and every node's logs; a node that cannot be read is listed as a problem", async () => {
    const folder = await RunFolder.create("tour", { root, now: at });
    const ops = history(vrrp(10, "lb1", "INIT", "MASTER"), acquired(11, "lb1"));
    const report = buildReport({ scenario: "tour", startedAt: at, durationMs: 100, ops, checks: [], figures: {} });
    const lb1: LogSource = {
      name: "lb1",
      readTree: async (path) =>
        path === "/var/log/lab"
          ? [
              { path: "/var/log/lab/keepalived.log", content: Buffer.from("Entering MASTER STATE\n") },
              { path: "/var/log/lab/boot.log", content: Buffer.from("boot\n") },
            ]
          : [{ path: "/var/log/nginx/error.log", content: Buffer.from("") }],
    };
    const lb2: LogSource = {
      name: "lb2",
      readTree: async () => {
        throw new LabError("no such container");
      },
    };
    const manifest = await folder.saveEvidence({
      ops,
      report,
      configs: new Map([["lb1", [{ path: "/etc/keepalived/keepalived.conf", content: "vrrp_instance VI_1 {}\n" }]]]),
      nodes: [lb1, lb2],
      lab: { name: "demo", run: "abcd1234" },
      renderHtml: async () => "<!doctype html><p>page</p>",
    });
    const read = (p: string) => readFile(join(folder.path, p), "utf8");
    expect((await read("history.jsonl")).trim().split("\n").map((l) => JSON.parse(l).f)).toEqual(["vrrp", "vip"]);
    expect(JSON.parse(await read("report.json"))).toEqual(report);
    expect(await read("report.html")).toContain("page");
    expect(await read("configs/lb1/etc/keepalived/keepalived.conf")).toContain("VI_1");
    expect(await read("logs/lb1/var/log/lab/keepalived.log")).toContain("MASTER");
    expect(await read("logs/lb1/var/log/nginx/error.log")).toBe("");
    expect(manifest.logs).toEqual({ lb1: ["/var/log/lab/keepalived.log", "/var/log/lab/boot.log", "/var/log/nginx/error.log"], lb2: [] });
    expect(manifest.problems).toEqual([
      "logs of lb2 (/var/log/lab): no such container",
      "logs of lb2 (/var/log/nginx): no such container",
    ]);
    expect(JSON.parse(await read("run.json"))).toMatchObject({ schema: "failover-lab/run@1", scenario: "tour", lab: "demo", run: "abcd1234", outcome: "report", error: null });
  });

  it("keeps the error of a run that stopped before its report", async () => {
    const folder = await RunFolder.create("broken", { root, now: at });
    const manifest = await folder.saveEvidence({ ops: [], error: new LabError("Timed out waiting for VIP"), configs: new Map(), nodes: [] });
    expect(manifest.outcome).toBe("error");
    expect(await readFile(join(folder.path, "error.txt"), "utf8")).toMatch(/^Timed out waiting for VIP/);
    await expect(stat(join(folder.path, "report.json"))).rejects.toThrow(/ENOENT/);
  });

  it("says which folder it cannot create and what to do", async () => {
    const file = join(root, "a-file");
    await writeFile(file, "");
    const err = await RunFolder.create("x", { root: join(file, "runs") }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LabError);
    expect((err as LabError).message).toMatch(/^Cannot create the runs folder .*a-file\/runs: ENOTDIR/);
    expect((err as LabError).remedy).toMatch(/FAILOVER_LAB_RUNS_DIR/);
  });
});
