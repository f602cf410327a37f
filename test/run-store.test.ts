/**
 * The run store and the HTML report against a real run: power-off leaves lb1 powered off at the end,
 * so its logs can only come out through the engine's archive API. Then the run's report.html is
 * opened in headless Chromium, offline, and its chart must carry the run's lanes and fault.
 */
import { lstat, mkdtemp, readFile, readlink, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Report } from "../lab/report/report.ts";
import { LABEL } from "../lab/runtime/labels.ts";
import { connectEngine } from "../lab/runtime/engine.ts";
import { loadScenario } from "../lab/scenario/catalog.ts";
import { runScenario, type ScenarioRun } from "../lab/scenario/run.ts";
import { chromiumUnavailable, launchChromium } from "./fixtures/chromium.ts";

let root: string;
let run: ScenarioRun;
let folder: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "failover-lab-runs-"));
  run = await runScenario(await loadScenario("power-off"), { store: { root }, name: "run-store" });
  folder = run.folder!.path;
}, 300_000);

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

const read = (p: string) => readFile(join(folder, p), "utf8");

describe("run folder of a power-off run", () => {
  it("is under the root, with latest pointing at it, and the lab is gone", async () => {
    expect(folder.startsWith(root)).toBe(true);
    expect(folder).toMatch(/\/\d{8}T\d{6}Z-power-off$/);
    expect((await lstat(join(root, "latest"))).isSymbolicLink()).toBe(true);
    expect(join(root, await readlink(join(root, "latest")))).toBe(folder);
    const { docker } = await connectEngine();
    expect(await docker.listContainers({ all: true, filters: { label: [`${LABEL.lab}=run-store`] } })).toEqual([]);
  });

  it("holds the history as JSON lines and the report", async () => {
    const lines = (await read("history.jsonl")).trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.length).toBe(run.ops.length);
    expect(lines.map((o) => o.index)).toEqual(run.ops.map((o) => o.index));
    expect(lines.some((o) => o.f === "fault" && o.kind === "power-off")).toBe(true);
    expect(JSON.parse(await read("report.json"))).toEqual(run.report);
    const manifest = JSON.parse(await read("run.json"));
    expect(manifest).toMatchObject({ schema: "failover-lab/run@1", scenario: "power-off", lab: "run-store", outcome: "report", problems: [] });
  });

  it("holds the configs rendered for each load balancer", async () => {
    for (const node of ["lb1", "lb2"]) {
      expect(await read(`configs/${node}/etc/keepalived/keepalived.conf`)).toContain(`keepalived.conf of ${node}`);
      expect(await read(`configs/${node}/etc/nginx/nginx.conf`)).toContain(`nginx.conf of ${node}`);
    }
  });

  it("holds every daemon's log, the powered-off lb1's included", async () => {
    // lb1 is off: no exec is possible, the engine's archive API still reads its files
    expect(await read("logs/lb1/var/log/lab/keepalived.log")).toMatch(/Entering MASTER STATE/);
    expect(await read("logs/lb2/var/log/lab/keepalived.log")).toMatch(/Entering MASTER STATE/);
    for (const node of ["lb1", "lb2", "web1", "web2"]) {
      expect(await read(`logs/${node}/var/log/lab/boot.log`)).toMatch(/^boot: /);
      await expect(lstat(join(folder, `logs/${node}/var/log/nginx/error.log`))).resolves.toBeTruthy();
    }
    const manifest = JSON.parse(await read("run.json"));
    expect(manifest.logs.lb1).toContain("/var/log/lab/keepalived.log");
  });

  it("holds report.html, which opens offline in headless Chromium with the run's lanes and fault", async (ctx) => {
    const why = chromiumUnavailable();
    if (why) ctx.skip(why);
    const started = performance.now();
    await using browser = await launchChromium();
    const page = await browser.context.newPage();
    const requested: string[] = [];
    page.on("request", (r) => requested.push(r.url()));
    const url = pathToFileURL(join(folder, "report.html")).href;
    await page.goto(url, { timeout: 30_000 });
    const report = JSON.parse(await read("report.json")) as Report;

    expect(requested).toEqual([url]); // one self-contained file: nothing else is loaded
    const svg = page.locator("#chart svg");
    await expect(svg.count()).resolves.toBe(1);
    const box = await svg.boundingBox();
    expect(box?.width).toBeGreaterThan(800);
    // a lane per node: its axis label, and bars naming the node
    for (const node of ["lb1", "lb2"]) {
      await expect(page.locator("#chart svg g.role-axis-label text", { hasText: new RegExp(`^${node}$`) }).count()).resolves.toBe(1);
      await expect(page.locator(`#chart svg path[aria-label*="node: ${node};"]`).count()).resolves.toBeGreaterThan(0);
    }
    await expect(page.locator('#chart svg path[aria-label*="node: lb1;"][aria-label*="state: OFF"]').count()).resolves.toBe(1);
    // the fault marker: its label, at the time the report says it took effect
    const off = report.faults.find((f) => f.kind === "power-off")!;
    const atS = Math.round(off.effectAtMs ?? off.atMs) / 1000;
    const marker = page.locator("#chart svg text", { hasText: `#${off.faultId} power-off lb1` });
    await expect(marker.count()).resolves.toBe(1);
    expect(await marker.getAttribute("aria-label")).toContain(`atS: ${atS};`);
    // the checks table: one row per check, measured next to expected
    await expect(page.locator("#checks tbody tr").count()).resolves.toBe(report.checks.length);
    expect(await page.locator("#verdict").textContent()).toBe(report.verdict.toUpperCase());
    console.log(`chromium: report.html (${((await readFile(join(folder, "report.html"))).length / 1024).toFixed(1)} KiB) loaded and checked in ${(performance.now() - started).toFixed(0)} ms`);
  });
});
