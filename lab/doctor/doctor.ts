/**
 * `failover-lab doctor`: can this machine run the lab? One check per line, each pass / warn / fail
 * with its evidence and, when not a pass, the remedy. Probes run in throwaway labelled containers
 * on a throwaway lab network and are removed afterwards.
 */
import { access, constants, open, readFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { execa } from "execa";
import which from "which";
import { errorMessage, LabError } from "../errors.ts";
import { formatIpv4, nthAddress } from "../ipv4.ts";
import { type Reporter, silentReporter } from "../report/reporter.ts";
import { removeResources } from "../runtime/cleanup.ts";
import { beginRun, deploy, type Deployment } from "../runtime/deployment.ts";
import { connectEngine, type Engine } from "../runtime/engine.ts";
import { engineProvider } from "../runtime/engines.ts";
import { ImageBuilder } from "../runtime/images.ts";

export type Verdict = "pass" | "warn" | "fail";

export interface DoctorCheck {
  name: string;
  verdict: Verdict;
  detail: string;
  remedy?: string;
}

export interface DoctorOptions {
  reporter?: Reporter;
  /** Build missing images (default true); without it, missing images are a warning. */
  build?: boolean;
}

const MIN_NODE = [22, 22] as const;

export async function runDoctor(options: DoctorOptions = {}): Promise<DoctorCheck[]> {
  const reporter = options.reporter ?? silentReporter;
  const checks: DoctorCheck[] = [];
  checks.push(checkNode());

  let engine: Engine | undefined;
  try {
    engine = await connectEngine();
    checks.push({ name: "engine", verdict: "pass", detail: `Docker ${engine.version} (API ${engine.apiVersion}) at ${engine.endpoint}, kernel ${engine.kernelVersion}` });
  } catch (err) {
    checks.push({ name: "engine", verdict: "fail", detail: errorMessage(err).split("\n")[0]!, remedy: (err as LabError).remedy });
  }

  if (engine) {
    const { check: imagesCheck, lbPresent } = await checkImages(engine, reporter, options.build ?? true);
    checks.push(imagesCheck);
    if (lbPresent) checks.push(...(await probeNodes(engine, reporter)));
    else {
      for (const name of ["capabilities", "vrrp-multicast", "ip_vs"]) {
        checks.push({ name, verdict: "warn", detail: "not checked: the lb image is not built", remedy: "Run `failover-lab doctor` without --no-build, or `failover-lab images`." });
      }
    }
  }
  if (engine) checks.push(...(await checkScenarioEngines(reporter)));
  checks.push(await checkKvm());
  checks.push(await checkTool("qemu", "qemu-system-x86_64", ["--version"], "runs a guest kernel with IPVS for LVS scenarios when the engine's kernel lacks IP_VS", "apt-get install -y qemu-system-x86"));
  checks.push(await checkTool("debootstrap", "debootstrap", ["--version"], "bootstraps the Debian base image when no registry answers", "apt-get install -y debootstrap"));
  return checks;
}

function checkNode(): DoctorCheck {
  const [major, minor] = process.versions.node.split(".").map(Number) as [number, number];
  const ok = major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
  return ok
    ? { name: "node", verdict: "pass", detail: `Node ${process.versions.node}` }
    : {
        name: "node",
        verdict: "fail",
        detail: `Node ${process.versions.node} is older than ${MIN_NODE.join(".")}`,
        remedy: "Install Node ≥ 22.22 (`bash scripts/ensure-node.sh` puts Node 24 in .tools/ from the npm registry).",
      };
}

async function checkImages(engine: Engine, reporter: Reporter, build: boolean): Promise<{ check: DoctorCheck; lbPresent: boolean }> {
  const builder = new ImageBuilder(engine.docker, reporter);
  try {
    if (build) {
      const tags = await builder.ensureAll();
      return { check: { name: "images", verdict: "pass", detail: Object.values(tags).join(", ") }, lbPresent: true };
    }
    const status = await builder.status();
    const lbPresent = status.some((s) => s.name === "lb" && s.present);
    const missing = status.filter((s) => !s.present);
    if (missing.length === 0) return { check: { name: "images", verdict: "pass", detail: status.map((s) => s.tag).join(", ") }, lbPresent };
    return {
      check: {
        name: "images",
        verdict: "warn",
        detail: `missing: ${missing.map((s) => s.name).join(", ")} (buildable from images/)`,
        remedy: "Run `failover-lab images` (or any scenario) to build them.",
      },
      lbPresent,
    };
  } catch (err) {
    return { check: { name: "images", verdict: "fail", detail: errorMessage(err).split("\n")[0]!, remedy: (err as LabError).remedy }, lbPresent: false };
  }
}

/** Two throwaway nodes: capabilities, VRRP multicast between them, and IP_VS. */
async function probeNodes(engine: Engine, reporter: Reporter): Promise<DoctorCheck[]> {
  const lab = `doctor-${randomBytes(3).toString("hex")}`;
  const { run, network } = await beginRun(engine, lab, { reporter });
  const subnet = network.subnet;
  const a = formatIpv4(nthAddress(subnet, 11));
  const b = formatIpv4(nthAddress(subnet, 12));
  const vip = formatIpv4(nthAddress(subnet, 200));
  const conf = (state: string, priority: number) =>
    [
      "global_defs {",
      "  vrrp_version 3",
      "}",
      "vrrp_instance DOCTOR {",
      `  state ${state}`,
      "  interface eth0",
      "  virtual_router_id 254",
      `  priority ${priority}`,
      "  advert_int 0.1",
      `  virtual_ipaddress { ${vip}/${subnet.prefix} }`,
      "}",
      "",
    ].join("\n");
  let deployment: Deployment;
  reporter.step("Starting two throwaway nodes to probe capabilities, VRRP multicast and IP_VS");
  try {
    deployment = await deploy(
      {
        lab,
        run: run.run,
        nodes: [
          { name: "probe-a", role: "probe", image: "lb", address: a, boot: ["keepalived"], files: [{ path: "/etc/keepalived/keepalived.conf", content: conf("MASTER", 200) }] },
          { name: "probe-b", role: "probe", image: "lb", address: b, boot: ["keepalived"], files: [{ path: "/etc/keepalived/keepalived.conf", content: conf("BACKUP", 100) }] },
        ],
      },
      { engine, reporter, network },
    );
  } catch (err) {
    await removeResources(engine.docker, { kind: "run", run: run.run }).catch(() => undefined);
    return [
      { name: "capabilities", verdict: "fail", detail: errorMessage(err).split("\n")[0]!, remedy: (err as LabError).remedy ?? "Use a rootful Docker engine that grants NET_ADMIN and NET_RAW." },
      { name: "vrrp-multicast", verdict: "fail", detail: "not checked: no probe node could start" },
      { name: "ip_vs", verdict: "warn", detail: "not checked: no probe node could start" },
    ];
  }
  try {
    return [await checkCapabilities(deployment), await checkMulticast(deployment, vip), await checkIpvs(deployment, engine)];
  } finally {
    await deployment.destroy();
  }
}

async function checkCapabilities(d: Deployment): Promise<DoctorCheck> {
  const node = d.node("probe-a");
  const r = await node.exec(["sh", "-c", "ip addr add 127.0.0.2/32 dev lo && ip addr del 127.0.0.2/32 dev lo && iptables -S INPUT >/dev/null && echo ok"], { check: false });
  if (r.exitCode === 0) return { name: "capabilities", verdict: "pass", detail: "NET_ADMIN and NET_RAW granted (addresses, raw sockets and iptables work; no privileged mode needed)" };
  return { name: "capabilities", verdict: "fail", detail: `a node with NET_ADMIN and NET_RAW cannot manage its network: ${(r.stderr || r.stdout).trim()}`, remedy: "Use a rootful Docker engine; rootless or locked-down engines cannot run VRRP." };
}

async function checkMulticast(d: Deployment, vip: string): Promise<DoctorCheck> {
  const backup = d.node("probe-b");
  // The backup must hear the master's adverts on 224.0.0.18 (IP protocol 112).
  const heard = await backup.exec(["timeout", "3", "tcpdump", "-c", "5", "-ni", "eth0", "-q", "ip proto 112 and src host " + d.node("probe-a").address], { check: false, timeoutMs: 8_000 });
  const count = (heard.stdout.match(/VRRP|vrrp|ip-proto-112/g) ?? []).length;
  const holders: string[] = [];
  for (const node of d.nodes.values()) {
    const addrs = await node.exec(["ip", "-o", "-4", "addr", "show", "dev", "eth0"]);
    if (addrs.stdout.includes(` ${vip}/`)) holders.push(node.name);
  }
  if (count >= 5 && holders.length === 1 && holders[0] === "probe-a") {
    return { name: "vrrp-multicast", verdict: "pass", detail: `backup heard ${count} adverts to 224.0.0.18; VIP ${vip} held by the master only` };
  }
  return {
    name: "vrrp-multicast",
    verdict: "fail",
    detail: `backup heard ${count} VRRP adverts in 3 s; VIP held by [${holders.join(", ")}]`,
    remedy: "Multicast between containers on a user bridge must work (check bridge netfilter rules and `sysctl net.bridge`).",
  };
}

async function checkIpvs(d: Deployment, engine: Engine): Promise<DoctorCheck> {
  const r = await d.node("probe-a").exec(["sh", "-c", "ipvsadm -Ln 2>&1; echo \"exit=$?\"; test -e /proc/modules && echo modules=yes || echo modules=no"], { check: false });
  const out = r.stdout;
  if (/exit=0/.test(out)) return { name: "ip_vs", verdict: "pass", detail: `kernel ${engine.kernelVersion} has IP_VS (ipvsadm -Ln works in a node)` };
  const said = out.split("\n").filter((l) => l && !l.startsWith("exit=") && !l.startsWith("modules=")).join(" ").trim();
  const modules = out.includes("modules=no") ? "and it cannot load modules (no /proc/modules)" : "and the ip_vs module is not loaded on the engine's host";
  return {
    name: "ip_vs",
    verdict: "warn",
    detail: `unavailable: kernel ${engine.kernelVersion} has no IP_VS ${modules}; ipvsadm says: ${said}`,
    remedy: "LVS scenarios need an engine whose kernel has IP_VS (most Docker hosts do: `modprobe ip_vs`), or the qemu guest engine.",
  };
}

/**
 * Which engine serves which scenarios: the process's engine for most; for those that need IPVS,
 * the one runtime/engines.ts would pick (nothing is booted here) — or why they would be skipped.
 */
async function checkScenarioEngines(reporter: Reporter): Promise<DoctorCheck[]> {
  const { scenarioNames, loadScenario } = await import("../scenario/catalog.ts");
  const { topologyNeeds } = await import("../lab.ts");
  const all = await Promise.all((await scenarioNames()).map(async (name) => ({ name, needs: topologyNeeds((await loadScenario(name)).topology) })));
  const plain = all.filter((s) => s.needs.length === 0).map((s) => s.name);
  const ipvs = all.filter((s) => s.needs.includes("ipvs")).map((s) => s.name);
  const out: DoctorCheck[] = [];
  const host = await engineProvider().plan([], reporter);
  out.push({ name: "engine: scenarios", verdict: "pass", detail: `${plain.length} scenarios on ${host.detail}` });
  if (ipvs.length === 0) return out;
  try {
    const plan = await engineProvider().plan(["ipvs"], reporter);
    const what = plan.kind === "host" ? plan.detail : plan.kind === "ipvs-engine" ? `the engine at ${plan.detail}` : plan.kind === "guest" ? plan.detail : `skipped: ${plan.detail}`;
    out.push({
      name: "engine: IPVS scenarios",
      verdict: plan.kind === "skipped" ? "warn" : "pass",
      detail: `${ipvs.join(", ")} → ${what}`,
      ...(plan.kind === "skipped" ? { remedy: "Install qemu for the guest engine (`bash scripts/ensure-qemu.sh`), or point FAILOVER_LAB_IPVS_ENGINE (or DOCKER_HOST) at an engine whose kernel has IPVS." } : {}),
    });
  } catch (err) {
    out.push({ name: "engine: IPVS scenarios", verdict: "warn", detail: `${ipvs.join(", ")}: cannot tell (${errorMessage(err).split("\n")[0]})` });
  }
  return out;
}

async function checkKvm(): Promise<DoctorCheck> {
  try {
    const fh = await open("/dev/kvm", "r+");
    await fh.close();
    const flags = /^flags\s*:(.*)$/m.exec(await readFile("/proc/cpuinfo", "utf8").catch(() => ""))?.[1]?.split(/\s+/) ?? [];
    if (!flags.includes("vmx") && !flags.includes("svm")) {
      return {
        name: "kvm",
        verdict: "warn",
        detail: "/dev/kvm opens, but the CPU shows neither vmx nor svm: a KVM guest hangs in its firmware here",
        remedy: "Nothing to do: the qemu guest engine uses software emulation (TCG) by default; leave FAILOVER_LAB_GUEST_ACCEL unset.",
      };
    }
    return { name: "kvm", verdict: "pass", detail: "/dev/kvm opens read-write and the CPU shows vmx/svm (the guest engine still uses TCG unless FAILOVER_LAB_GUEST_ACCEL=kvm)" };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      name: "kvm",
      verdict: "warn",
      detail: code === "ENOENT" ? "/dev/kvm does not exist" : `/dev/kvm does not open (${code})`,
      remedy: "Only the qemu guest engine uses it; without KVM it runs under software emulation (slower).",
    };
  }
}

async function checkTool(name: string, command: string, args: string[], purpose: string, install: string): Promise<DoctorCheck> {
  const path = await which(command, { path: `${process.env.PATH ?? ""}:/usr/sbin:/sbin`, nothrow: true });
  if (!path) return { name, verdict: "warn", detail: `${command} not found (${purpose})`, remedy: install };
  await access(path, constants.X_OK);
  const r = await execa(path, args, { reject: false, timeout: 10_000 });
  const version = (r.stdout || r.stderr).split("\n")[0]?.trim() || path;
  return { name, verdict: "pass", detail: version };
}

export function formatChecks(checks: DoctorCheck[]): string {
  const width = Math.max(...checks.map((c) => c.name.length));
  return checks
    .map((c) => {
      const line = `${c.verdict.toUpperCase().padEnd(4)}  ${c.name.padEnd(width)}  ${c.detail}`;
      return c.remedy && c.verdict !== "pass" ? `${line}\n${" ".repeat(width + 8)}→ ${c.remedy}` : line;
    })
    .join("\n");
}
