/**
 * docker-compose.yml, brought up with Debian's docker-compose (1.29): the VIP answers over HTTP from
 * the host, keepalived elected lb1 master, and `down` leaves no container or network behind.
 * docker-compose must be installed where this platform can install it (scripts/ensure-compose.sh,
 * called by scripts/setup.sh); the test skips only where it cannot, and fails on CI.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { request } from "undici";
import { afterAll, describe, expect, it } from "vitest";
import { COMPOSE_SUBNET } from "../lab/compose/compose.ts";
import { ConsoleReporter } from "../lab/report/reporter.ts";
import { connectEngine } from "../lab/runtime/engine.ts";
import { ImageBuilder } from "../lab/runtime/images.ts";
import { LABEL } from "../lab/runtime/labels.ts";
import { takenSubnets } from "../lab/runtime/network.ts";
import { cidrsOverlap, parseCidr } from "../lab/ipv4.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const PROJECT = `flcompose${process.pid}`;
const VIP = COMPOSE_SUBNET.replace(/0\/24$/, "100");

function composeUnavailable(): string | undefined {
  const found = ["/usr/bin/docker-compose", "/usr/local/bin/docker-compose"].some((p) => existsSync(p));
  if (found) return undefined;
  const canInstall = process.getuid?.() === 0 && existsSync("/usr/bin/apt-get");
  if (process.env.CI || canInstall) {
    throw new Error("docker-compose is not installed, and this machine can install it: run `bash scripts/ensure-compose.sh` as root (scripts/setup.sh, and so CI, does)");
  }
  return "docker-compose is not installed and this platform cannot install it here (not Debian/Ubuntu as root); install docker-compose 1.29+ or compose v2";
}

const compose = (...args: string[]) => execa("docker-compose", ["-p", PROJECT, "-f", "docker-compose.yml", ...args], { cwd: ROOT, reject: false, timeout: 180_000 });

async function composeLeftovers(): Promise<{ containers: string[]; networks: string[] }> {
  const { docker } = await connectEngine();
  const byProject = { label: [`com.docker.compose.project=${PROJECT}`] };
  const byLab = { label: [`${LABEL.lab}=compose`] };
  const containers = [...(await docker.listContainers({ all: true, filters: byProject })), ...(await docker.listContainers({ all: true, filters: byLab }))];
  const networks = [...(await docker.listNetworks({ filters: byProject })), ...(await docker.listNetworks({ filters: byLab }))];
  return { containers: [...new Set(containers.map((c) => c.Names[0] ?? c.Id))], networks: [...new Set(networks.map((n) => n.Name))] };
}

afterAll(async () => {
  if (!composeUnavailable()) await compose("down", "-v", "--remove-orphans");
});

describe("docker-compose.yml", () => {
  it("comes up with docker-compose: the VIP answers over HTTP, lb1 is MASTER; down leaves nothing", async (ctx) => {
    const why = composeUnavailable();
    if (why) ctx.skip(why);
    const started = performance.now();
    const { docker } = await connectEngine();
    const clash = (await takenSubnets(docker)).find((t) => cidrsOverlap(t.cidr, parseCidr(COMPOSE_SUBNET)!));
    expect(clash, `${COMPOSE_SUBNET} is taken by ${clash?.owner}; remove it (docker-compose down) and run again`).toBeUndefined();
    expect(await composeLeftovers()).toEqual({ containers: [], networks: [] });
    // the compose file names the images by their stable tag, which the ImageBuilder keeps current
    const images = new ImageBuilder(docker, new ConsoleReporter({ stream: process.stdout }));
    for (const name of ["lb", "web"]) await images.ensure(name);

    const config = await compose("config", "-q");
    expect(config.exitCode, config.stderr).toBe(0);
    const up = await compose("up", "-d");
    expect(up.exitCode, up.stderr).toBe(0);

    // keepalived starts every node as BACKUP and takes a Master_Down_Interval (about 3.6 s) to elect;
    // a node that booted first can hold the VIP briefly until lb1 preempts it. Wait for lb1 to answer.
    const deadline = performance.now() + 30_000;
    let answer: { status: number; lb: string | undefined; body: string } | undefined;
    let lastError = "";
    while (performance.now() < deadline) {
      try {
        const r = await request(`http://${VIP}/`, { headersTimeout: 1000, bodyTimeout: 1000 });
        answer = { status: r.statusCode, lb: r.headers["x-lab-lb"] as string | undefined, body: await r.body.text() };
        if (answer.lb === "lb1") break;
        lastError = `answered by ${answer.lb ?? "?"}`;
        await new Promise((r) => setTimeout(r, 250));
      } catch (err) {
        lastError = (err as Error).message;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    expect(answer, `the VIP ${VIP} did not answer over HTTP within 30 s (last error: ${lastError})`).toBeDefined();
    expect(answer!.status).toBe(200);
    expect(answer!.lb).toBe("lb1");
    expect(answer!.body).toMatch(/^served by web[12]\n$/);

    const log = await execa("docker", ["exec", "failover-lab-compose-lb1", "cat", "/var/log/lab/keepalived.log"], { reject: false });
    expect(log.stdout).toMatch(/\(VI_1\) Entering MASTER STATE/);
    const addr = await execa("docker", ["exec", "failover-lab-compose-lb2", "ip", "-4", "addr", "show", "eth0"], { reject: false });
    expect(addr.stdout).not.toContain(`${VIP}/`);

    const down = await compose("down", "-v", "--remove-orphans");
    expect(down.exitCode, down.stderr).toBe(0);
    expect(await composeLeftovers()).toEqual({ containers: [], networks: [] });
    console.log(`compose: up, VIP answered through ${answer!.lb}, down, in ${(performance.now() - started).toFixed(0)} ms`);
  });
});
