/**
 * The command line's views of a run, against real containers: --output json (stdout is the report
 * and nothing else), --output jsonl (every op as it happens, then the report), the live status line
 * on a terminal (a pseudo-terminal from `script`), and the demo in Simplified Chinese ending with
 * its HTML report in the run folder and the live view's address.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectEngine } from "../lab/runtime/engine.ts";
import { LABEL } from "../lab/runtime/labels.ts";

const CLI = join(import.meta.dirname, "..", "bin", "failover-lab.js");
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "failover-lab-cli-views-"));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("run --output", () => {
  it("json: stdout is exactly the report; progress goes to stderr; the run folder is written", async () => {
    const runs = join(dir, "json-runs");
    const r = await execa(process.execPath, [CLI, "run", "graceful-stop", "--output", "json", "--runs-dir", runs], { reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.schema).toBe("failover-lab/report@1");
    expect(report.verdict).toBe("pass");
    expect(r.stderr).toMatch(/Run folder: .*graceful-stop/);
    const [folder] = (await readdir(runs)).filter((f) => f !== "latest");
    expect(JSON.parse(await readFile(join(runs, folder!, "report.json"), "utf8"))).toEqual(report);
    expect(existsSync(join(runs, folder!, "report.html"))).toBe(true);
  });

  it("jsonl: one JSON event a line — the ops as they happen, then the report; -q and --no-store leave stderr and the disk alone", async () => {
    const cwd = await mkdtemp(join(dir, "jsonl-"));
    const r = await execa(process.execPath, [CLI, "-q", "run", "graceful-stop", "--output", "jsonl", "--no-store"], { reject: false, cwd });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    const events = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { event: string; op?: { f: string; kind?: string }; report?: { verdict: string; requests: { total: number } }; folder?: string | null });
    const last = events.pop()!;
    expect(last.event).toBe("report");
    expect(last.report!.verdict).toBe("pass");
    expect(last.folder).toBeNull();
    expect(new Set(events.map((e) => e.event))).toEqual(new Set(["op"]));
    expect(events.some((e) => e.op!.f === "fault" && e.op!.kind === "stop-keepalived")).toBe(true);
    expect(events.filter((e) => e.op!.f === "request").length).toBe(last.report!.requests.total);
    expect(await readdir(cwd)).toEqual([]);
  });

  it("text on a terminal: a live status line with each node's state, the VIP, requests/s and errors", async () => {
    const runs = join(dir, "tty-runs");
    const log = join(dir, "tty.log");
    // `script` gives the command a pseudo-terminal, as a person's shell would
    const r = await execa("script", ["-qefc", `${process.execPath} ${CLI} run graceful-stop --runs-dir ${runs}`, log], { reject: false, stdin: "ignore" });
    expect(r.exitCode).toBe(0);
    const screen = await readFile(log, "utf8");
    const lines = screen.split("\r").filter((l) => l.startsWith("\x1b[2K") && / req\/s/.test(l));
    expect(lines.length).toBeGreaterThan(10);
    expect(lines.some((l) => /lb1 MASTER ●VIP │ lb2 BACKUP │ \d+ req\/s/.test(l))).toBe(true);
    expect(lines.some((l) => /lb2 MASTER ●VIP/.test(l))).toBe(true);
    expect(screen).toMatch(/^graceful-stop: PASS/m);
  });
});

describe("an interrupted run", () => {
  it("Ctrl-C: the run folder still gets the history, the configs and every log before the lab is removed", async () => {
    const runs = join(dir, "interrupted-runs");
    const child = execa(process.execPath, [CLI, "run", "power-off", "--runs-dir", runs], { reject: false });
    let stderr = "";
    const faulted = new Promise<void>((resolve) => {
      child.stderr!.on("data", (d: Buffer) => {
        stderr += d.toString();
        if (/fault: power-off on lb1/.test(stderr)) resolve();
      });
    });
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no power-off within 120 s; stderr:\n${stderr}`)), 120_000));
    await Promise.race([faulted, timeout]);
    child.kill("SIGINT");
    const r = await child;
    expect(r.exitCode, r.stderr).toBe(130);
    const folder = join(runs, "latest");
    const manifest = JSON.parse(await readFile(join(folder, "run.json"), "utf8"));
    expect(manifest).toMatchObject({ outcome: "error", error: "the run was interrupted before it finished", problems: [] });
    expect(await readFile(join(folder, "error.txt"), "utf8")).toMatch(/^the run was interrupted/);
    expect((await readFile(join(folder, "history.jsonl"), "utf8")).split("\n").some((l) => l.includes('"kind":"power-off"'))).toBe(true);
    expect(await readFile(join(folder, "logs/lb1/var/log/lab/keepalived.log"), "utf8")).toMatch(/Entering MASTER STATE/);
    expect(await readFile(join(folder, "configs/lb1/etc/keepalived/keepalived.conf"), "utf8")).toContain("vrrp_instance VI_1");
    const { docker } = await connectEngine();
    expect(await docker.listContainers({ all: true, filters: { label: [`${LABEL.run}=${manifest.run}`] } })).toEqual([]);
  });
});

describe("demo", () => {
  it("in English, unattended: narrates every step with its measured figure, ends with the HTML report's path", async () => {
    const runs = join(dir, "demo-runs-en");
    const r = await execa(process.execPath, [CLI, "demo", "--runs-dir", runs], { reject: false });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    for (const step of ["Step: kill nginx on lb1", "Step: start nginx on lb1 again", "Step: pull the plug on lb1", "Step: power lb1 on", "Step: firewall VRRP", "Step: remove the firewall rules"]) {
      expect(r.stdout).toContain(step);
    }
    expect(r.stdout).toMatch(/lb2 took the VIP [\d.]+ s after the power cut \(expected /);
    expect(r.stdout).toMatch(/Done\. \d+ requests in all, \d+ failed\./);
    const html = /▶ The report with the timeline chart \(open it in a browser; it works offline\): (\S+report\.html)/.exec(r.stdout)?.[1];
    expect(html).toBeDefined();
    expect(html!.startsWith(runs)).toBe(true);
    expect(await readFile(html!, "utf8")).toContain('<html lang="en">');
  });

  it("in Simplified Chinese, with the live view: narrates every step, ends with the HTML report's path", async () => {
    const runs = join(dir, "demo-runs");
    const r = await execa(process.execPath, [CLI, "demo", "--lang", "zh-CN", "--web", "--port", "0", "--runs-dir", runs], { reject: false });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/▶ 投影用的实时页面：http:\/\/127\.0\.0\.1:\d+\//);
    for (const step of ["在 lb1 上杀掉 nginx", "在 lb1 上重新启动 nginx", "直接给 lb1 断电", "给 lb1 重新上电"]) expect(r.stdout).toContain(step);
    const html = /▶ 带时间线图表的报告（用浏览器打开，无需联网）：(\S+report\.html)/.exec(r.stdout)?.[1];
    expect(html).toBeDefined();
    expect(html!.startsWith(runs)).toBe(true);
    const page = await readFile(html!, "utf8");
    expect(page).toContain('<html lang="zh-CN">');
    expect(page).toContain("#1 kill-nginx lb1");
    expect(r.stdout).toMatch(/▶ 本次运行记录的全部内容.*都在 .*tour/);
    expect(r.stdout).toContain("▶ 实时页面已停止。");
  });
});
