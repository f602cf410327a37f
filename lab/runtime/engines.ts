/**
 * Which engine serves a lab. Most labs run on the process's engine (DOCKER_HOST, else the local
 * socket: engine.ts). A lab that needs IPVS (LVS directors) runs on the first of these that works:
 *
 *   1. FAILOVER_LAB_IPVS_ENGINE — any Docker endpoint whose kernel has IPVS ("tcp://host:2375",
 *      "unix:///path/docker.sock"); it must have IPVS, or the lab stops and says why;
 *   2. the process's engine, when its kernel has IPVS (most Docker hosts: Swarm's routing mesh uses
 *      it) — so pointing DOCKER_HOST at an IPVS-capable engine skips the guest;
 *   3. the qemu guest (runtime/guest/): Debian's kernel under TCG with a Docker engine inside,
 *      booted once per process on first need and shared by every IPVS lab after it; its images
 *      come from the host's engine and stay cached on its data disk. FAILOVER_LAB_GUEST=0 turns it off.
 *
 * When none can, `plan` says why in one sentence ("skipped: …"), which tests print when they skip.
 * `close()` powers the guest off (the process's exit also kills it: runtime/guest/qemu.ts).
 */
import which from "which";
import { EnvironmentError, errorMessage } from "../errors.ts";
import { type Reporter, silentReporter } from "../report/reporter.ts";
import { connectEngine, type Engine } from "./engine.ts";
import { ensureGuestImage, type Guest, type GuestStopResult, loadImagesIntoGuest, startGuest } from "./guest/index.ts";
import { engineIpvsSupport, type IpvsSupport } from "./guest/ipvs.ts";
import { GUEST_RECIPE_DIR, guestCacheRoot, readGuestRecipe } from "./guest/recipe.ts";
import { ImageBuilder, type ImageName, pruneImages } from "./images.ts";
import type { EnginePace } from "./pace.ts";

export type EngineNeed = "ipvs";

/** A TCG guest: 1–2 s per exec (6–9 s when five run at once), timers late under load. */
export const GUEST_PACE: EnginePace = {
  execConcurrency: 2,
  timeScale: 6,
  slack: { ms: 750, why: "TCG guest slack (its timers and processes run late while its emulated CPUs are busy)" },
  sharedClock: false,
  reachesLabNetwork: false,
};

/** Images an LVS lab uses (directors and nginx real servers: lb; web; the client: base, a parent). */
const GUEST_IMAGES: readonly ImageName[] = ["lb", "web"];

export type EngineKind = "host" | "ipvs-engine" | "guest";

export interface EnginePlan {
  /** Which engine will serve, or "skipped" when none can. */
  kind: EngineKind | "skipped";
  /** One sentence: why this engine, or why none. */
  detail: string;
}

export class EngineProvider {
  private hostIpvs: Promise<IpvsSupport> | undefined;
  private guestStart: Promise<{ guest: Guest; engine: Engine }> | undefined;
  private configured: Promise<Engine> | undefined;
  private readonly env: NodeJS.ProcessEnv;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    this.env = env;
  }

  /** The running guest, if this provider booted one. */
  get guest(): Promise<Guest | undefined> {
    return this.guestStart ? this.guestStart.then((g) => g.guest).catch(() => undefined) : Promise.resolve(undefined);
  }

  /** Which engine would serve a lab with these needs, without booting anything. */
  async plan(needs: readonly EngineNeed[], reporter: Reporter = silentReporter): Promise<EnginePlan> {
    const host = await connectEngine();
    if (!needs.includes("ipvs")) return { kind: "host", detail: `the process's engine (${host.endpoint})` };
    const endpoint = this.env.FAILOVER_LAB_IPVS_ENGINE;
    if (endpoint) return { kind: "ipvs-engine", detail: `FAILOVER_LAB_IPVS_ENGINE=${endpoint}` };
    const onHost = await this.hostIpvsSupport(host, reporter);
    if (onHost.available) return { kind: "host", detail: `the process's engine (${host.endpoint}): kernel ${onHost.kernelVersion} has IPVS` };
    const why = `the engine's kernel has no IPVS (${onHost.reason})`;
    if (this.env.FAILOVER_LAB_GUEST === "0") return { kind: "skipped", detail: `${why}, and the qemu guest engine is turned off (FAILOVER_LAB_GUEST=0)` };
    const missing = await missingGuestTools();
    if (missing.length > 0) {
      return { kind: "skipped", detail: `${why}, and the qemu guest engine cannot run here: ${missing.join("; ")}` };
    }
    return { kind: "guest", detail: `${why}: the qemu guest engine (Debian's kernel under TCG, engine on 127.0.0.1)` };
  }

  /** An engine for a lab with these needs; boots the guest on first need. Throws EnvironmentError when none can serve. */
  async engineFor(needs: readonly EngineNeed[], reporter: Reporter = silentReporter): Promise<Engine> {
    const plan = await this.plan(needs, reporter);
    switch (plan.kind) {
      case "host":
        return connectEngine();
      case "ipvs-engine":
        return this.configuredEngine(reporter);
      case "guest":
        return (await this.bootGuest(reporter)).engine;
      case "skipped":
        throw new EnvironmentError(`No engine with IPVS for this lab: ${plan.detail}`, {
          remedy:
            "Point FAILOVER_LAB_IPVS_ENGINE (or DOCKER_HOST) at an engine whose kernel has IPVS (`modprobe ip_vs` on its host), " +
            "or install qemu for the guest engine: `bash scripts/ensure-qemu.sh`.",
        });
    }
  }

  /** Power the guest off (clean shutdown of its engine and data disk), if one was booted. */
  async close(): Promise<GuestStopResult | undefined> {
    const start = this.guestStart;
    this.guestStart = undefined;
    if (!start) return undefined;
    const booted = await start.catch(() => undefined);
    return booted?.guest.shutdown();
  }

  private hostIpvsSupport(host: Engine, reporter: Reporter): Promise<IpvsSupport> {
    this.hostIpvs ??= (async () => {
      const lb = await new ImageBuilder(host.docker, reporter).ensure("lb");
      return engineIpvsSupport(host.docker, lb);
    })();
    return this.hostIpvs;
  }

  private configuredEngine(reporter: Reporter): Promise<Engine> {
    this.configured ??= (async () => {
      const endpoint = this.env.FAILOVER_LAB_IPVS_ENGINE!;
      const Dockerode = (await import("dockerode")).default;
      const docker = new Dockerode(dockerOptions(endpoint));
      let version: Awaited<ReturnType<typeof docker.version>>;
      try {
        version = await docker.version();
      } catch (err) {
        throw new EnvironmentError(`FAILOVER_LAB_IPVS_ENGINE=${endpoint} does not answer: ${errorMessage(err)}`, { remedy: "Check the endpoint (tcp://host:port or unix:///path/to/docker.sock).", cause: err });
      }
      const lb = await new ImageBuilder(docker, reporter).ensure("lb");
      const ipvs = await engineIpvsSupport(docker, lb);
      if (!ipvs.available) {
        throw new EnvironmentError(`FAILOVER_LAB_IPVS_ENGINE=${endpoint} has no IPVS: ${ipvs.reason}`, { remedy: "Run `modprobe ip_vs` on that engine's host, or unset FAILOVER_LAB_IPVS_ENGINE to use the qemu guest." });
      }
      reporter.step(`IPVS labs run on ${endpoint} (Docker ${version.Version}, kernel ${ipvs.kernelVersion})`);
      return { docker, version: version.Version, apiVersion: version.ApiVersion, endpoint, kernelVersion: version.KernelVersion ?? ipvs.kernelVersion };
    })();
    this.configured.catch(() => (this.configured = undefined));
    return this.configured;
  }

  private bootGuest(reporter: Reporter): Promise<{ guest: Guest; engine: Engine }> {
    this.guestStart ??= (async () => {
      const host = await connectEngine();
      reporter.step("IPVS is needed and the engine's kernel has none: starting the qemu guest engine (once for this process)");
      const image = await ensureGuestImage({ reporter });
      const guest = await startGuest({ image, reporter });
      try {
        const loaded = await loadImagesIntoGuest({ host: host.docker, guest: guest.engine.docker, names: GUEST_IMAGES, reporter });
        // Older lab images left on the cached data disk only fill it.
        const pruned = await pruneImages(guest.engine.docker, Object.values(loaded.tags)).catch(() => [] as string[]);
        if (pruned.length) reporter.detail(`removed ${pruned.length} out-of-date image(s) from the guest's data disk`);
        return { guest, engine: { ...guest.engine, pace: GUEST_PACE } };
      } catch (err) {
        await guest.shutdown();
        throw err;
      }
    })();
    this.guestStart.catch(() => (this.guestStart = undefined));
    return this.guestStart;
  }
}

/** What the guest needs on this machine that is missing (empty: it can run). */
export async function missingGuestTools(): Promise<string[]> {
  const path = `${process.env.PATH ?? ""}:/usr/sbin:/sbin`;
  const missing: string[] = [];
  for (const [tool, pkg] of [["qemu-system-x86_64", "qemu-system-x86"], ["qemu-img", "qemu-utils"]] as const) {
    if (!(await which(tool, { path, nothrow: true }))) missing.push(`${tool} is not installed (apt-get install ${pkg})`);
  }
  // Building the guest (once per recipe) needs root, debootstrap and cpio; a cached build needs neither.
  const recipe = await readGuestRecipe(GUEST_RECIPE_DIR).catch(() => undefined);
  const cached = recipe ? await import("node:fs/promises").then((fs) => fs.stat(`${guestCacheRoot()}/${recipe.hash}/manifest.json`)).then(() => true, () => false) : false;
  if (!cached) {
    if (process.getuid?.() !== 0) missing.push("building the guest needs root (debootstrap, chroot)");
    for (const tool of ["debootstrap", "cpio"]) {
      if (!(await which(tool, { path, nothrow: true }))) missing.push(`${tool} is not installed (apt-get install ${tool})`);
    }
  }
  return missing;
}

/** dockerode's options for a DOCKER_HOST-style endpoint. */
export function dockerOptions(endpoint: string): { socketPath: string } | { host: string; port: number; protocol: "http" | "https" } {
  if (endpoint.startsWith("unix://")) return { socketPath: endpoint.slice("unix://".length) };
  const url = new URL(endpoint.replace(/^tcp:/, "http:"));
  return { host: url.hostname, port: Number(url.port || 2375), protocol: url.protocol === "https:" ? "https" : "http" };
}

let shared: EngineProvider | undefined;

/** The process's provider: one guest per process, shared by every lab that needs it. */
export function engineProvider(): EngineProvider {
  shared ??= new EngineProvider();
  return shared;
}

/** Power off whatever the process's provider booted (call at the end of a run or a test file). */
export async function closeEngines(): Promise<GuestStopResult | undefined> {
  return shared?.close();
}
