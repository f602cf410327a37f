/**
 * The foundation against a real engine: least privilege, labels, disposable labs that never leak,
 * daemons that start and stop one by one, power off/on, the reaper, `down`, doctor and clear errors.
 */
import { spawn } from "node:child_process";
import { mkdtemp, mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { runDoctor } from "../lab/doctor/doctor.ts";
import { EnvironmentError } from "../lab/errors.ts";
import { MemoryReporter } from "../lab/report/reporter.ts";
import { findOrphanRuns, reapOrphans } from "../lab/runtime/cleanup.ts";
import { bootstrapDebianImage } from "../lab/runtime/debian-bootstrap.ts";
import { deploy } from "../lab/runtime/deployment.ts";
import { connectEngine } from "../lab/runtime/engine.ts";
import { ImageBuilder } from "../lab/runtime/images.ts";
import { LABEL } from "../lab/runtime/labels.ts";
import { twoNodeLab } from "./fixtures/two-node-lab.ts";

const CLI = join(import.meta.dirname, "..", "bin", "failover-lab.js");

async function labResources(lab: string) {
  const { docker } = await connectEngine();
  const filters = { label: [`${LABEL.lab}=${lab}`] };
  return {
    containers: await docker.listContainers({ all: true, filters }),
    networks: await docker.listNetworks({ filters }),
  };
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("a deployed lab", () => {
  it("gives nodes NET_ADMIN and NET_RAW only, never privileged, and labels every container and network", async () => {
    await using lab = await deploy(twoNodeLab("fnd-privs", "10.213.101"));
    const { docker } = await connectEngine();
    for (const node of lab.nodes.values()) {
      const info = await docker.getContainer(node.containerId).inspect();
      expect(info.HostConfig.Privileged).toBe(false);
      expect([...(info.HostConfig.CapAdd ?? [])].sort()).toEqual(["NET_ADMIN", "NET_RAW"]);
      expect(info.Config.Labels[LABEL.lab]).toBe("fnd-privs");
      expect(info.Config.Labels[LABEL.run]).toBe(lab.run);
      expect(info.Config.Labels[LABEL.node]).toBe(node.name);
      expect(info.Config.Labels[LABEL.role]).toBe(node.role);
      const top = await node.exec(["ps", "-o", "comm=", "-p", "1"]);
      expect(top.stdout.trim()).toBe("tini");
    }
    const net = await docker.getNetwork(lab.network.id).inspect();
    expect(net.Labels?.[LABEL.run]).toBe(lab.run);
  });

  it("leaves nothing behind when the code using it throws", async () => {
    await expect(
      (async () => {
        await using _lab = await deploy(twoNodeLab("fnd-throw", "10.213.102"));
        throw new Error("a failing test");
      })(),
    ).rejects.toThrow("a failing test");
    const left = await labResources("fnd-throw");
    expect(left.containers).toHaveLength(0);
    expect(left.networks).toHaveLength(0);
  });

  it("starts and stops daemons one at a time, and a powered-off node boots its daemons again", async () => {
    await using lab = await deploy(twoNodeLab("fnd-daemons", "10.213.103"));
    const lb1 = lab.node("lb1");
    const status = async () => (await lb1.exec(["labctl", "status", "keepalived"], { check: false })).exitCode;
    expect(await status()).toBe(0);

    expect((await lb1.exec(["labctl", "stop", "keepalived"])).stdout).toContain("keepalived stopped");
    expect(await status()).toBe(3);
    const again = await lb1.exec(["labctl", "stop", "keepalived"], { check: false });
    expect(again.exitCode).toBe(3); // nothing to do, said so
    expect(again.stdout).toContain("not running");

    await lb1.exec(["labctl", "start", "keepalived"]);
    expect(await status()).toBe(0);
    await lb1.exec(["labctl", "kill", "keepalived"]);
    // SIGKILL leaves the pid file behind; the next start must not be fooled by it.
    expect((await lb1.exec(["sh", "-c", "test -s /run/keepalived.pid && echo stale"])).stdout.trim()).toBe("stale");
    await lb1.exec(["labctl", "start", "keepalived"]);
    expect(await status()).toBe(0);

    await lb1.powerOff();
    expect(await lb1.powerState()).toBe("off");
    await lb1.powerOn();
    await until("keepalived after power on", async () => ((await status()) === 0 ? true : undefined));
    const boots = (await lb1.readFile("/var/log/lab/boot.log")).match(/^boot:/gm) ?? [];
    expect(boots).toHaveLength(2);
    // The node kept its address across the power cycle.
    expect((await lb1.exec(["ip", "-o", "-4", "addr", "show", "dev", "eth0"])).stdout).toContain("10.213.103.11/24");
  });

  it("freezes and thaws a node, and exec on a frozen node fails fast instead of hanging", async () => {
    await using lab = await deploy(twoNodeLab("fnd-freeze", "10.213.104"));
    const lb1 = lab.node("lb1");
    await lb1.freeze();
    expect(await lb1.powerState()).toBe("frozen");
    const started = performance.now();
    await expect(lb1.exec(["true"], { timeoutMs: 3_000 })).rejects.toThrow(/lb1/);
    expect(performance.now() - started).toBeLessThan(3_500);
    await lb1.thaw();
    expect((await lb1.exec(["echo", "awake"])).stdout.trim()).toBe("awake");
  });
});

describe("clean-up", () => {
  it("reaps the leftovers of a process killed mid-run, and `down --all` removes every lab", async () => {
    const child = spawn(process.execPath, [join(import.meta.dirname, "fixtures", "deploy-and-hang.ts"), "fnd-killed", "10.213.105"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (d: Buffer) => d.toString().includes("READY") && resolve());
      child.on("exit", (code) => reject(new Error(`fixture exited early with ${code}`)));
    });
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));

    const left = await labResources("fnd-killed");
    expect(left.containers).toHaveLength(3);
    const { docker } = await connectEngine();
    expect((await findOrphanRuns(docker)).map((o) => o.lab)).toContain("fnd-killed");
    const reaped = await reapOrphans(docker);
    expect(reaped.find((r) => r.lab === "fnd-killed")?.containers.sort()).toEqual(["fnd-killed-lb1", "fnd-killed-lb2", "fnd-killed-web1"]);
    expect((await labResources("fnd-killed")).containers).toHaveLength(0);

    // A kept lab (started to stay up) is never reaped, but `down --all` removes it.
    await deploy({ ...twoNodeLab("fnd-kept", "10.213.106"), keep: true });
    expect(await findOrphanRuns(docker)).toEqual([]);
    const down = await execa(process.execPath, [CLI, "down", "--all"], { reject: false });
    expect(down.exitCode).toBe(0);
    expect(down.stdout).toContain("fnd-kept-lb1");
    expect((await labResources("fnd-kept")).containers).toHaveLength(0);
    expect((await labResources("fnd-kept")).networks).toHaveLength(0);
  });

  it("refuses to start a lab whose name is already up, and says how to stop it", async () => {
    await using _first = await deploy(twoNodeLab("fnd-twice", "10.213.107"));
    const err = await deploy(twoNodeLab("fnd-twice", "10.213.108")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EnvironmentError);
    expect((err as EnvironmentError).message).toMatch(/Lab fnd-twice is already up \(process .* is running it\)/);
    expect((err as EnvironmentError).remedy).toContain("failover-lab down fnd-twice");
  });
});

describe("doctor", () => {
  it("passes engine, capabilities and multicast, and reports IP_VS with the kernel's reason", async () => {
    const checks = await runDoctor({ build: false });
    const by = Object.fromEntries(checks.map((c) => [c.name, c]));
    expect(by.engine?.verdict).toBe("pass");
    expect(by.capabilities?.verdict).toBe("pass");
    expect(by["vrrp-multicast"]?.verdict).toBe("pass");
    const ipvs = by.ip_vs!;
    if (ipvs.verdict !== "pass") {
      expect(ipvs.verdict).toBe("warn");
      expect(ipvs.detail).toMatch(/kernel .* has no IP_VS/);
      expect(ipvs.detail).toMatch(/ipvsadm says: .+/);
    }
    // KVM passes only where it could run a guest: /dev/kvm and a CPU with vmx or svm.
    const kvm = by.kvm!;
    const cpuFlags = /^flags\s*:(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1]?.split(/\s+/) ?? [];
    if (!existsSync("/dev/kvm") || (!cpuFlags.includes("vmx") && !cpuFlags.includes("svm"))) expect(kvm.verdict).toBe("warn");
    const cli = await execa(process.execPath, [CLI, "doctor", "--no-build"], { reject: false });
    expect(cli.exitCode).toBe(0);
    expect(cli.stdout.split("\n").filter((l) => /^(PASS|WARN|FAIL) /.test(l)).length).toBe(checks.length);
  });
});

describe("errors a user can act on", () => {
  it("no engine: exit 2 and a remedy, no stack trace", async () => {
    const r = await execa(process.execPath, [CLI, "down", "--all"], { reject: false, env: { DOCKER_HOST: "tcp://127.0.0.1:1" } });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("No container engine answers at tcp://127.0.0.1:1");
    expect(r.stderr).toContain("scripts/ensure-docker.sh");
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it("a failing image build names the step, leaves no container, and nothing half-built is tagged", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fl-images-"));
    try {
      await mkdir(join(dir, "broken"));
      await writeFile(join(dir, "broken", "Dockerfile"), "ARG DEBIAN_IMAGE\nFROM ${DEBIAN_IMAGE}\nRUN echo about to fail && exit 3\n");
      const { docker } = await connectEngine();
      const before = (await docker.listContainers({ all: true })).length;
      const builder = new ImageBuilder(docker, new MemoryReporter(), { imagesDir: dir, parents: { broken: "debian" } });
      const err = await builder.ensure("broken").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EnvironmentError);
      expect((err as EnvironmentError).message).toMatch(/Building image broken failed[\s\S]*exit 3|non-zero code: 3/);
      expect((err as EnvironmentError).remedy).toMatch(/images\/broken\/Dockerfile/);
      expect((await docker.listContainers({ all: true })).length).toBe(before);
      expect((await docker.listImages({ filters: { reference: ["failover-lab/broken"] } })).length).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a missing debootstrap says what to install and leaves no temporary root filesystem", async () => {
    const { docker } = await connectEngine();
    const before = (await readdir(tmpdir())).filter((n) => n.startsWith("failover-lab-rootfs-"));
    const err = await bootstrapDebianImage({ docker, reporter: new MemoryReporter(), searchPath: "/nonexistent" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EnvironmentError);
    expect((err as EnvironmentError).message).toContain("debootstrap is not installed");
    expect((err as EnvironmentError).remedy).toContain("apt-get install -y debootstrap");
    expect((await readdir(tmpdir())).filter((n) => n.startsWith("failover-lab-rootfs-"))).toEqual(before);
  });

  it("a second image check with nothing changed builds nothing", async () => {
    const { docker } = await connectEngine();
    const reporter = new MemoryReporter();
    const builder = new ImageBuilder(docker, reporter);
    await builder.ensureAll();
    expect(reporter.lines.filter((l) => l.includes("Building image"))).toEqual([]);
    expect((await builder.status()).filter((s) => !s.present)).toEqual([]);
  });
});
