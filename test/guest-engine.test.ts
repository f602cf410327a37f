/**
 * The qemu guest engine: a Debian kernel with IPVS under TCG, its Docker engine on the host's
 * loopback, the lab's images loaded into it, and the seed's LVS-DR setup reproduced inside it —
 * two keepalived directors (VRRP + virtual_server … lb_kind DR) and two nginx real servers, with
 * a client container in the guest generating the requests and reporting who answered.
 *
 * Skipped (with the reason printed) when qemu, qemu-img, debootstrap or cpio are missing.
 */
import which from "which";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConsoleReporter } from "../lab/report/reporter.ts";
import { deploy, type Deployment, type NodeSpec } from "../lab/runtime/deployment.ts";
import { connectEngine, type Engine } from "../lab/runtime/engine.ts";
import { GUEST_PACE } from "../lab/runtime/engines.ts";
import { ImageBuilder } from "../lab/runtime/images.ts";
import {
  engineIpvsSupport,
  ensureGuestImage,
  hostIpvsSupport,
  type Guest,
  type GuestImage,
  type IpvsSupport,
  loadImagesIntoGuest,
  type LoadImagesResult,
  startGuest,
} from "../lab/runtime/guest/index.ts";
import type { LabNode } from "../lab/runtime/node-container.ts";

const sbin = `${process.env.PATH ?? ""}:/usr/sbin:/sbin`;
const missing = ["qemu-system-x86_64", "qemu-img", "debootstrap", "cpio"].filter((t) => !which.sync(t, { path: sbin, nothrow: true }));
if (missing.length > 0) console.log(`guest-engine tests skipped: ${missing.join(", ")} not installed (apt-get install -y --no-install-recommends qemu-system-x86 qemu-utils debootstrap cpio)`);

const NET = "10.213.150";
const VIP = `${NET}.150`;
const LB = { lb1: `${NET}.11`, lb2: `${NET}.12` };
const WEB = { web1: `${NET}.21`, web2: `${NET}.22` };
const CLIENT = `${NET}.30`;

/** The seed's keepalived.conf for an LVS-DR director, on the lab's addresses. */
function directorConf(name: string, state: "MASTER" | "BACKUP", priority: number): string {
  const realServer = (ip: string) => `    real_server ${ip} 80 {
        weight 1
        TCP_CHECK {
            connect_port 80
            connect_timeout 2
            delay_before_retry 1
        }
    }`;
  return `global_defs {
    router_id LVS_${name}
}
vrrp_instance VI_1 {
    state ${state}
    interface eth0
    virtual_router_id 51
    priority ${priority}
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass 1111
    }
    virtual_ipaddress {
        ${VIP}
    }
}
virtual_server ${VIP} 80 {
    delay_loop 2
    lb_algo rr
    lb_kind DR
    protocol TCP
${realServer(WEB.web1)}
${realServer(WEB.web2)}
}
`;
}

function lvsDrLab(): { lab: string; subnet: string; nodes: NodeSpec[] } {
  const director = (name: "lb1" | "lb2", state: "MASTER" | "BACKUP", priority: number): NodeSpec => ({
    name,
    role: "lb",
    image: "lb",
    address: LB[name],
    files: [{ path: "/etc/keepalived/keepalived.conf", content: directorConf(name, state, priority) }],
    boot: ["keepalived"],
  });
  // A DR real server owns the VIP on lo (it accepts packets addressed to it) but never answers ARP for it.
  const realServer = (name: "web1" | "web2"): NodeSpec => ({
    name,
    role: "web",
    image: "web",
    address: WEB[name],
    files: [{ path: "/etc/lab/on-boot.sh", content: `#!/bin/sh\nip addr replace ${VIP}/32 dev lo\n`, mode: 0o755 }],
    boot: ["nginx"],
    sysctls: {
      "net.ipv4.conf.all.arp_ignore": "1",
      "net.ipv4.conf.all.arp_announce": "2",
      "net.ipv4.conf.lo.arp_ignore": "1",
      "net.ipv4.conf.lo.arp_announce": "2",
    },
  });
  return {
    lab: "guest-lvs-dr",
    subnet: `${NET}.0/24`,
    nodes: [
      director("lb1", "MASTER", 100),
      director("lb2", "BACKUP", 50),
      realServer("web1"),
      realServer("web2"),
      { name: "client", role: "client", image: "web", address: CLIENT, boot: [] },
    ],
  };
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (performance.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function holdsVip(node: LabNode): Promise<boolean> {
  const r = await node.exec(["ip", "-4", "-o", "addr", "show", "dev", "eth0"], { timeoutMs: 20_000 });
  return r.stdout.includes(` ${VIP}/`);
}

/** n requests from the client container to the VIP, one curl each; one line per request. */
async function requestStream(client: LabNode, n: number): Promise<Array<{ code: string; backend: string; peer: string }>> {
  const script =
    `for i in $(seq ${n}); do curl -s -m 3 -o /dev/null ` +
    `-w '%{http_code} %header{x-lab-backend} %header{x-lab-peer}\\n' http://${VIP}/ || echo "000 - -"; done`;
  const r = await client.exec(["bash", "-c", script], { timeoutMs: n * 5_000 + 10_000 });
  return r.stdout
    .trim()
    .split("\n")
    .map((line) => {
      const [code = "", backend = "", peer = ""] = line.trim().split(/\s+/);
      return { code, backend, peer };
    });
}

const measured: Record<string, string | number> = {};
const s = (ms: number) => Math.round(ms / 100) / 10;

describe.skipIf(missing.length > 0)("an engine in a qemu guest with Debian's kernel (IPVS)", () => {
  const reporter = new ConsoleReporter({ stream: process.stdout });
  let host: Engine;
  let image: GuestImage;
  let guest: Guest | undefined;
  let loaded: LoadImagesResult;
  let lab: Deployment | undefined;
  /** The guest's engine with the pace the lab gives it (runtime/pace.ts): 2 execs at once, timeouts × 6. */
  let engine: Engine;

  beforeAll(async () => {
    host = await connectEngine();
    const t0 = performance.now();
    image = await ensureGuestImage({ reporter });
    measured["guest image"] = image.reused ? `reused from ${image.dir}` : `built in ${s(performance.now() - t0)} s into ${image.dir}`;
    measured["guest root (initramfs)"] = `${(image.initrdBytes / 2 ** 20).toFixed(0)} MiB`;
    guest = await startGuest({ image, reporter });
    measured["boot to engine ready"] = `${s(guest.bootMs)} s (${guest.accelerator}, ${guest.cpus} CPUs, ${guest.memoryMiB} MiB)`;
    loaded = await loadImagesIntoGuest({ host: host.docker, guest: guest.engine.docker, names: ["lb", "web"], reporter });
    measured["images into the guest"] =
      loaded.transferred.length > 0 ? `${(loaded.bytes / 2 ** 20).toFixed(0)} MiB in ${s(loaded.ms)} s` : "already on the cached data disk";
    engine = { ...guest.engine, pace: GUEST_PACE };
  }, 1_200_000);

  afterAll(async () => {
    await lab?.destroy();
    if (guest) {
      if (await guest.lockedUp()) reporter.warn(`the guest's kernel reported a soft lockup:\n${(await guest.console()).split("\n").filter((l) => /soft lockup/.test(l)).slice(0, 3).join("\n")}`);
      const stop = await guest.shutdown();
      measured["shutdown"] = `${s(stop.ms)} s (${stop.clean ? "clean power-off" : "killed"})`;
      expect(guest.running).toBe(false);
    }
    reporter.info(`guest measurements:\n${Object.entries(measured).map(([k, v]) => `  ${k}: ${v}`).join("\n")}`);
  }, 120_000);

  it("boots Debian's kernel under TCG, reachable only through 127.0.0.1", async () => {
    expect(guest!.engine.endpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    expect(guest!.engine.kernelVersion).toMatch(/cloud-amd64$/);
    expect(guest!.engine.kernelVersion).not.toBe(host.kernelVersion);
    expect(guest!.accelerator).toBe("tcg");
    const console = await guest!.console();
    expect(console).toContain("modules loaded, IPVS ready");
  });

  it("says why the host engine has no IPVS, and finds it in the guest", async () => {
    const lbTag = loaded.tags.lb!;
    const onHost: IpvsSupport = await hostIpvsSupport({ engine: host });
    measured["host IPVS"] = onHost.available ? `available (kernel ${onHost.kernelVersion})` : `missing: ${onHost.reason}`;
    if (!onHost.available) expect(onHost.reason).toMatch(/IPVS|ip_vs|ipvsadm/);
    const inGuest = await engineIpvsSupport(guest!.engine.docker, lbTag);
    expect(inGuest.reason).toBe("");
    expect(inGuest.available).toBe(true);
    expect(inGuest.ipvsadmOutput).toContain("IP Virtual Server version");
  });

  it("deploys two keepalived directors and two nginx real servers; VRRP elects lb1", async () => {
    const t0 = performance.now();
    // deploy() waits for every node's daemons itself: its execs queue for the guest's few slots
    // instead of piling up until the guest's dockerd stops answering (runtime/pace.ts).
    lab = await deploy(lvsDrLab(), {
      reporter,
      engine,
      images: new ImageBuilder(guest!.engine.docker, reporter),
    });
    measured["deploy start → 5 containers up, all daemons running (2 keepalived, 2 nginx, 1 client)"] = `${s(performance.now() - t0)} s`;
    const lb1 = lab.node("lb1");
    const lb2 = lab.node("lb2");
    await until("lb1 to hold the VIP (VRRP master)", async () => ((await holdsVip(lb1)) ? true : undefined), 60_000);
    measured["deploy start → VRRP master holds the VIP"] = `${s(performance.now() - t0)} s`;
    expect(await holdsVip(lb2)).toBe(false);
    const t1 = performance.now();
    await lab.node("client").exec(["true"]);
    measured["one exec in a guest container"] = `${Math.round(performance.now() - t1)} ms`;
    const mem = await lab.node("client").readFile("/proc/meminfo");
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, "m").exec(mem)?.[1] ?? 0);
    measured["guest memory in use with the lab up"] = `${((kb("MemTotal") - kb("MemAvailable")) / 1024).toFixed(0)} MiB of ${(kb("MemTotal") / 1024).toFixed(0)} MiB`;
  }, 600_000);

  it("keepalived programs the virtual service (lb_kind DR) into IPVS; ipvsadm -A/-a/-Ln work in a container", async () => {
    const lb1 = lab!.node("lb1");
    const table = await until(
      "keepalived to add both real servers to IPVS on lb1",
      async () => {
        const out = (await lb1.exec(["ipvsadm", "-Ln"], { timeoutMs: 20_000 })).stdout;
        return out.includes(`${WEB.web1}:80`) && out.includes(`${WEB.web2}:80`) ? out : undefined;
      },
      30_000,
    );
    expect(table).toContain(`TCP  ${VIP}:80 rr`);
    expect(table).toMatch(new RegExp(`${WEB.web1.replaceAll(".", "\\.")}:80\\s+Route`));
    // By hand, as in the seed (ipvsadm -A -t … -s rr; ipvsadm -a … -g), on the backup director.
    const lb2 = lab!.node("lb2");
    const svc = `${NET}.200:8080`;
    await lb2.exec(["ipvsadm", "-A", "-t", svc, "-s", "rr"]);
    await lb2.exec(["ipvsadm", "-a", "-t", svc, "-r", `${WEB.web1}:8080`, "-g"]);
    await lb2.exec(["ipvsadm", "-a", "-t", svc, "-r", `${WEB.web2}:8080`, "-g"]);
    const manual = (await lb2.exec(["ipvsadm", "-Ln", "-t", svc])).stdout;
    expect(manual).toContain(`${WEB.web2}:8080`);
    await lb2.exec(["ipvsadm", "-D", "-t", svc]);
    // IPVS is per network namespace: lb1's table never saw lb2's service.
    expect((await lb1.exec(["ipvsadm", "-Ln"])).stdout).not.toContain(svc);
  });

  it("serves requests through the IPVS virtual service (DR): both real servers answer the client directly", async () => {
    const t0 = performance.now();
    const results = await requestStream(lab!.node("client"), 20);
    measured["20 requests through IPVS from the client container"] = `${s(performance.now() - t0)} s`;
    expect(results).toHaveLength(20);
    expect(results.filter((r) => r.code === "200")).toHaveLength(20);
    expect(new Set(results.map((r) => r.backend))).toEqual(new Set(["web1", "web2"]));
    // Direct routing keeps the client's address: the real server saw the client, not a director.
    expect(new Set(results.map((r) => r.peer))).toEqual(new Set([CLIENT]));
  });

  it("fails over: with lb1's keepalived stopped, lb2 takes the VIP and its IPVS serves the requests", async () => {
    const lb1 = lab!.node("lb1");
    const lb2 = lab!.node("lb2");
    const t0 = performance.now();
    await lb1.exec(["labctl", "stop", "keepalived"], { timeoutMs: 30_000 });
    await until("lb2 to take the VIP", async () => ((await holdsVip(lb2)) ? true : undefined), 30_000);
    measured["keepalived stop on lb1 → lb2 holds the VIP"] = `${s(performance.now() - t0)} s`;
    expect(await holdsVip(lb1)).toBe(false);
    const results = await requestStream(lab!.node("client"), 10);
    expect(results.filter((r) => r.code === "200")).toHaveLength(10);
    expect(new Set(results.map((r) => r.backend))).toEqual(new Set(["web1", "web2"]));
    const stats = (await lb2.exec(["ipvsadm", "-Ln", "--stats"])).stdout;
    expect(stats).toContain(`${VIP}:80`);
  });
});
