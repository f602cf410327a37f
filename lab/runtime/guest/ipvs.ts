/**
 * Does an engine's kernel have IPVS (LVS)? Asked the only way that counts: `ipvsadm -Ln` in a
 * throwaway container with NET_ADMIN (IPVS is per network namespace; a container cannot load a
 * module, so ip_vs must be built in or already loaded). When it is not there, the kernel's own
 * configuration (/proc/config.gz, when the kernel exposes it) says why.
 */
import { randomUUID } from "node:crypto";
import type Dockerode from "dockerode";
import { LabError } from "../../errors.ts";
import { type Reporter, silentReporter } from "../../report/reporter.ts";
import { connectEngine, type Engine } from "../engine.ts";
import { ImageBuilder } from "../images.ts";
import { labelsFor } from "../labels.ts";

export interface IpvsSupport {
  available: boolean;
  /** The engine's kernel, from inside the container. */
  kernelVersion: string;
  /** Why not, in one sentence (empty when available). */
  reason: string;
  /** What ipvsadm -Ln printed. */
  ipvsadmOutput: string;
  /** CONFIG_IP_VS / CONFIG_MODULES lines of the kernel config, when readable. */
  config: string[];
}

const PROBE = `
echo "kernel=$(uname -r)"
out=$(ipvsadm -Ln 2>&1); echo "ipvsadm_rc=$?"
printf '%s\\n' "$out" | sed 's/^/ipvsadm: /'
if [ -e /proc/net/ip_vs ]; then echo proc_ip_vs=yes; else echo proc_ip_vs=no; fi
if [ -r /proc/config.gz ]; then zcat /proc/config.gz | grep -E '^(# )?CONFIG_(IP_VS|MODULES)[ =]' | sed 's/^/config: /'; fi
`;

/**
 * Does the lab's engine (DOCKER_HOST or the local socket, unless one is given) have IPVS? Builds or
 * finds the lab's lb image (it has ipvsadm) and probes with it.
 */
export async function hostIpvsSupport(options: { engine?: Engine; reporter?: Reporter } = {}): Promise<IpvsSupport> {
  const engine = options.engine ?? (await connectEngine());
  const lb = await new ImageBuilder(engine.docker, options.reporter ?? silentReporter).ensure("lb");
  return engineIpvsSupport(engine.docker, lb);
}

/**
 * Probe an engine for IPVS. `image` must contain ipvsadm (the lab's lb image does). The probe
 * container has NET_ADMIN only, no network, and the lab's labels (the reaper removes it if this
 * process dies mid-probe).
 */
export async function engineIpvsSupport(docker: Dockerode, image: string, timeoutMs = 120_000): Promise<IpvsSupport> {
  const run = randomUUID().slice(0, 8);
  const container = await docker.createContainer({
    Image: image,
    Entrypoint: ["sh", "-c", PROBE],
    Cmd: [],
    Labels: labelsFor({ lab: "ipvs-probe", run, keep: false }, { name: "probe", role: "probe" }),
    HostConfig: { CapAdd: ["NET_ADMIN"], NetworkMode: "none" },
  });
  try {
    await container.start();
    const waited = await Promise.race([
      container.wait(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new LabError(`The IPVS probe container did not finish within ${timeoutMs} ms`)), timeoutMs).unref()),
    ]);
    void waited;
    const logs = (await container.logs({ stdout: true, stderr: true })) as unknown as Buffer;
    return interpretIpvsProbe(demux(logs));
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}

/** Turn the probe's output into an answer (exported for unit tests). */
export function interpretIpvsProbe(output: string): IpvsSupport {
  const lines = output.split("\n");
  const value = (key: string) => lines.find((l) => l.startsWith(`${key}=`))?.slice(key.length + 1).trim() ?? "";
  const kernelVersion = value("kernel") || "unknown";
  const ipvsadmOutput = lines
    .filter((l) => l.startsWith("ipvsadm: "))
    .map((l) => l.slice(9))
    .join("\n")
    .trim();
  const config = lines.filter((l) => l.startsWith("config: ")).map((l) => l.slice(8).trim());
  const available = value("ipvsadm_rc") === "0";
  if (available) return { available, kernelVersion, reason: "", ipvsadmOutput, config };

  const ipvsOff = config.includes("# CONFIG_IP_VS is not set");
  const ipvsModule = config.includes("CONFIG_IP_VS=m");
  const noModules = config.includes("# CONFIG_MODULES is not set");
  let reason: string;
  if (ipvsOff) {
    reason =
      `kernel ${kernelVersion} is built without IPVS (CONFIG_IP_VS is not set)` +
      (noModules ? " and cannot load modules (CONFIG_MODULES is not set)" : "");
  } else if (ipvsModule) {
    reason = `kernel ${kernelVersion} has IPVS as a module (ip_vs) that is not loaded, and a container cannot load it: run \`modprobe ip_vs\` on the engine's host`;
  } else if (/command not found|not found/.test(ipvsadmOutput)) {
    reason = "the probe image has no ipvsadm";
  } else {
    reason = `ipvsadm -Ln fails on kernel ${kernelVersion}: ${ipvsadmOutput.split("\n")[0] ?? "no output"}`;
  }
  return { available, kernelVersion, reason, ipvsadmOutput, config };
}

/** Docker's multiplexed log stream (8-byte frame headers) to text; plain text passes through. */
function demux(buf: Buffer): string {
  const parts: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length && (buf[i] === 1 || buf[i] === 2) && buf[i + 1] === 0) {
    const len = buf.readUInt32BE(i + 4);
    parts.push(buf.subarray(i + 8, i + 8 + len));
    i += 8 + len;
  }
  return i === 0 ? buf.toString("utf8") : Buffer.concat(parts).toString("utf8");
}
