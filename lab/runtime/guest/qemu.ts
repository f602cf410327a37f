/**
 * Boot the guest under qemu and expose its Docker engine as an `Engine` on the host's loopback.
 *
 *  - accelerator: TCG (software emulation), single-threaded by default (see tcgThread). KVM can be
 *    asked for (FAILOVER_LAB_GUEST_ACCEL=kvm) but on the measured CI machine a KVM guest never prints
 *    a line: the host CPU has no svm/vmx flag.
 *  - network: qemu user-mode networking with restrict=on (the guest reaches nothing outside) and one
 *    forward, 127.0.0.1:<free port> → guest :2375 (dockerd). Nothing listens on another address.
 *  - disk: a qcow2 data disk for /var/lib/docker, cached beside the guest image so images loaded
 *    once stay for the next boot; a second guest booting while the cached disk is in use gets a
 *    throwaway disk instead.
 *  - control: the guest's second serial port is a unix socket in the run directory; "poweroff" there
 *    stops dockerd, unmounts the data disk and powers the guest off. qemu runs under
 *    `setpriv --pdeathsig KILL`, so it dies with this process even when that is SIGKILLed.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { mkdtemp, open, readFile, rm, stat, writeFile } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Dockerode from "dockerode";
import { execa } from "execa";
import which from "which";
import { EnvironmentError, LabError, WaitTimeoutError } from "../../errors.ts";
import { type Reporter, silentReporter } from "../../report/reporter.ts";
import type { Engine } from "../engine.ts";
import { alive, type GuestImage } from "./build.ts";

export type Accelerator = "tcg" | "kvm";

export interface StartGuestOptions {
  image: GuestImage;
  reporter?: Reporter;
  /** Guest RAM in MiB. Default 3072 (the root filesystem alone takes ~400 MiB of it). */
  memoryMiB?: number;
  cpus?: number;
  /** Default FAILOVER_LAB_GUEST_ACCEL or "tcg". */
  accelerator?: Accelerator;
  /**
   * TCG threading. "single" (default; FAILOVER_LAB_GUEST_TCG_THREAD overrides): one host thread runs
   * all vCPUs in turn. "multi" (MTTCG) can be faster but wedged the guest kernel in 2 of 7 boots on
   * qemu 7.2 — both vCPUs spinning forever at a jump-label site in kmem_cache_alloc_bulk when the
   * first container was created, i.e. while the kernel live-patched its own code. guest-boot now
   * flips that switch at boot (one memory cgroup before dockerd), and MTTCG has not wedged in 5 boots since.
   */
  tcgThread?: "single" | "multi";
  /** How long the guest may take to boot until its engine answers. Default 240 s (TCG boots in ~25 s). */
  bootTimeoutMs?: number;
  /** Keep /var/lib/docker across boots in the cache (default true); false = a throwaway disk. */
  persistentData?: boolean;
  /** Size of a new data disk. Default "16G" (qcow2: grows as used). */
  dataDiskSize?: string;
}

export interface GuestStopResult {
  /** The guest powered itself off after "poweroff" (rather than being killed). */
  clean: boolean;
  ms: number;
}

const live = new Set<Guest>();
let exitHookInstalled = false;

/** Guests of this process still running. */
export function liveGuests(): Guest[] {
  return [...live];
}

export class Guest implements AsyncDisposable {
  readonly engine: Engine;
  readonly image: GuestImage;
  readonly accelerator: Accelerator;
  readonly memoryMiB: number;
  readonly cpus: number;
  /** From spawning qemu until the guest's engine answered. */
  readonly bootMs: number;
  /** Host port (on 127.0.0.1) forwarded to the guest's dockerd. */
  readonly port: number;
  readonly runDir: string;
  readonly consoleLog: string;
  readonly dataDisk: string;
  readonly dataDiskPersistent: boolean;
  private readonly proc: ChildProcess;
  private readonly exited: Promise<number | null>;
  private readonly releaseData: () => Promise<void>;
  private stopping: Promise<GuestStopResult> | undefined;

  constructor(init: {
    engine: Engine;
    image: GuestImage;
    accelerator: Accelerator;
    memoryMiB: number;
    cpus: number;
    bootMs: number;
    port: number;
    runDir: string;
    dataDisk: string;
    dataDiskPersistent: boolean;
    proc: ChildProcess;
    exited: Promise<number | null>;
    releaseData: () => Promise<void>;
  }) {
    this.engine = init.engine;
    this.image = init.image;
    this.accelerator = init.accelerator;
    this.memoryMiB = init.memoryMiB;
    this.cpus = init.cpus;
    this.bootMs = init.bootMs;
    this.port = init.port;
    this.runDir = init.runDir;
    this.consoleLog = join(init.runDir, "console.log");
    this.dataDisk = init.dataDisk;
    this.dataDiskPersistent = init.dataDiskPersistent;
    this.proc = init.proc;
    this.exited = init.exited;
    this.releaseData = init.releaseData;
    live.add(this);
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Whether the guest's kernel reported a soft lockup (a wedged vCPU: the guest will not recover). */
  async lockedUp(): Promise<boolean> {
    return /soft lockup/.test(await this.console());
  }

  /** The guest's console so far (kernel messages and the boot script's progress). */
  console(): Promise<string> {
    return readFile(this.consoleLog, "utf8").catch(() => "");
  }

  /**
   * Power the guest off: "poweroff" on its control port (dockerd stops its containers, the data
   * disk is unmounted), then SIGTERM and SIGKILL to qemu if it is still there after `timeoutMs`.
   * Safe to call more than once. Containers should be removed first (Deployment.destroy()).
   */
  shutdown(timeoutMs = 60_000): Promise<GuestStopResult> {
    this.stopping ??= this.stop(timeoutMs).finally(() => live.delete(this));
    return this.stopping;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }

  private async stop(timeoutMs: number): Promise<GuestStopResult> {
    const started = performance.now();
    let clean = false;
    if (this.running) {
      await sendControl(join(this.runDir, "ctl.sock"), "poweroff").catch(() => undefined);
      clean = await Promise.race([this.exited.then(() => true), sleep(timeoutMs).then(() => false)]);
      if (!clean) {
        this.proc.kill("SIGTERM");
        const gone = await Promise.race([this.exited.then(() => true), sleep(5_000).then(() => false)]);
        if (!gone) {
          this.proc.kill("SIGKILL");
          await this.exited;
        }
      }
    }
    await this.releaseData();
    if (!process.env.FAILOVER_LAB_KEEP_GUEST_LOGS) await rm(this.runDir, { recursive: true, force: true });
    return { clean, ms: Math.round(performance.now() - started) };
  }
}

/** Boot the guest and wait until its Docker engine answers on 127.0.0.1:<port>. */
export async function startGuest(options: StartGuestOptions): Promise<Guest> {
  const reporter = options.reporter ?? silentReporter;
  const image = options.image;
  const memoryMiB = options.memoryMiB ?? 3072;
  const cpus = options.cpus ?? 2;
  const accelerator = options.accelerator ?? ((process.env.FAILOVER_LAB_GUEST_ACCEL as Accelerator | undefined) || "tcg");
  const bootTimeoutMs = options.bootTimeoutMs ?? 240_000;
  const tcgThread = options.tcgThread ?? ((process.env.FAILOVER_LAB_GUEST_TCG_THREAD as "single" | "multi" | undefined) || "single");

  const qemu = await which("qemu-system-x86_64", { nothrow: true });
  if (!qemu) {
    throw new EnvironmentError("qemu-system-x86_64 is not installed: the IPVS guest cannot boot", {
      remedy: "apt-get install -y --no-install-recommends qemu-system-x86 qemu-utils",
    });
  }
  if (accelerator === "kvm") {
    const fd = await open("/dev/kvm", "r+").catch(() => undefined);
    if (!fd) throw new EnvironmentError("accelerator kvm asked for, but /dev/kvm cannot be opened", { remedy: "Use the default (tcg)." });
    await fd.close();
  }

  const runDir = await mkdtemp(join(tmpdir(), "failover-lab-guest-"));
  let releaseData: () => Promise<void> = async () => {};
  let proc: ChildProcess | undefined;
  try {
    const data = await prepareDataDisk(image, runDir, options.persistentData ?? true, options.dataDiskSize ?? "16G", reporter);
    releaseData = data.release;
    const port = await freeLoopbackPort();
    const consoleLog = join(runDir, "console.log");
    await writeFile(consoleLog, "");
    const qemuArgs = [
      "-name", "failover-lab-guest",
      "-nodefaults", "-display", "none", "-monitor", "none", "-no-reboot",
      "-accel", accelerator === "tcg" ? `tcg,thread=${tcgThread}` : "kvm",
      "-m", String(memoryMiB), "-smp", String(cpus),
      "-kernel", image.kernel, "-initrd", image.initrd,
      "-append", process.env.FAILOVER_LAB_GUEST_APPEND ?? "console=ttyS0 rdinit=/init panic=-1 quiet",
      "-netdev", `user,id=lan,restrict=on,hostfwd=tcp:127.0.0.1:${port}-:2375`,
      "-device", "virtio-net-pci,netdev=lan,romfile=",
      "-drive", `file=${data.path},if=virtio,format=qcow2,discard=unmap`,
      "-device", "virtio-rng-pci",
      "-serial", `file:${consoleLog}`,
      "-serial", `unix:${join(runDir, "ctl.sock")},server=on,wait=off`,
    ];
    const setpriv = await which("setpriv", { nothrow: true });
    const [cmd, args] = setpriv ? [setpriv, ["--pdeathsig", "KILL", "--", qemu, ...qemuArgs]] : [qemu, qemuArgs];
    reporter.step(
      `Booting the qemu guest (${accelerator === "tcg" ? `TCG ${tcgThread}-threaded` : "KVM"}, ${cpus} CPUs, ${memoryMiB} MiB, kernel ${image.kernelVersion}); ` +
        `its engine will answer on 127.0.0.1:${port}`,
    );
    const qemuLog = openSync(join(runDir, "qemu.log"), "w");
    const started = performance.now();
    proc = spawn(cmd, args as string[], { stdio: ["ignore", qemuLog, qemuLog] });
    closeSync(qemuLog);
    const child = proc;
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    installExitHook();
    const spawned = proc;
    killOnExit.add(spawned);
    exited.then(() => killOnExit.delete(spawned));

    // No client-side timeout: a load of images answers only when it is done (a minute or more under TCG).
    const docker = new Dockerode({ host: "127.0.0.1", port, protocol: "http" });
    await waitForEngine({ docker, port, consoleLog, runDir, exited, reporter, timeoutMs: bootTimeoutMs, started, accelerator });
    const bootMs = Math.round(performance.now() - started);
    const version = await docker.version();
    // The guest's engine belongs to the lab alone: stopped containers on the cached data disk are
    // leftovers of an earlier guest that was killed (build steps, probes), never anything to keep.
    const pruned = await docker.pruneContainers().catch(() => undefined);
    if (pruned?.ContainersDeleted?.length) reporter.detail(`removed ${pruned.ContainersDeleted.length} stopped container(s) left in the guest`);
    const endpoint = `tcp://127.0.0.1:${port}`;
    reporter.step(`Guest engine ready in ${(bootMs / 1000).toFixed(1)} s: Docker ${version.Version}, kernel ${version.KernelVersion} (qemu pid ${proc.pid})`);
    return new Guest({
      engine: { docker, version: version.Version, apiVersion: version.ApiVersion, endpoint, kernelVersion: version.KernelVersion ?? image.kernelVersion },
      image,
      accelerator,
      memoryMiB,
      cpus,
      bootMs,
      port,
      runDir,
      dataDisk: data.path,
      dataDiskPersistent: data.persistent,
      proc,
      exited,
      releaseData,
    });
  } catch (err) {
    if (proc && proc.exitCode === null) proc.kill("SIGKILL");
    await releaseData();
    if (!process.env.FAILOVER_LAB_KEEP_GUEST_LOGS) await rm(runDir, { recursive: true, force: true });
    throw err;
  }
}

interface WaitArgs {
  docker: Dockerode;
  port: number;
  consoleLog: string;
  runDir: string;
  exited: Promise<number | null>;
  reporter: Reporter;
  timeoutMs: number;
  started: number;
  accelerator: Accelerator;
}

async function waitForEngine(a: WaitArgs): Promise<void> {
  let exitCode: number | null | undefined;
  a.exited.then((c) => (exitCode = c));
  let shown = 0;
  const deadline = a.started + a.timeoutMs;
  for (;;) {
    // Follow the guest's progress lines on its console.
    const text = await readFile(a.consoleLog, "utf8").catch(() => "");
    const lines = text.split("\n");
    for (; shown < lines.length - 1; shown++) {
      const m = /failover-lab-guest: (.*)/.exec(lines[shown]!);
      if (m) a.reporter.step(`  guest: ${m[1]}`);
    }
    if (exitCode !== undefined) {
      const qemuLog = await readFile(join(a.runDir, "qemu.log"), "utf8").catch(() => "");
      throw new EnvironmentError(
        `qemu exited (code ${exitCode}) before the guest's engine answered.\nqemu: ${qemuLog.trim().slice(-800)}\nconsole:\n${lastLines(text, 15)}`,
        { remedy: "See the qemu message above; FAILOVER_LAB_KEEP_GUEST_LOGS=1 keeps the run directory." },
      );
    }
    if (/Kernel panic/.test(text)) {
      throw new EnvironmentError(`The guest's kernel panicked while booting:\n${lastLines(text, 20)}`, {
        remedy: "The guest recipe (images/guest/) is broken; FAILOVER_LAB_KEEP_GUEST_LOGS=1 keeps the console log.",
      });
    }
    if (/soft lockup/.test(text)) {
      throw new EnvironmentError(`The guest's kernel locked up while booting:\n${lastLines(text, 12)}`, {
        remedy: "Under TCG this is a qemu problem, not the lab's: run again; with tcgThread \"multi\" switch to \"single\".",
      });
    }
    if (/failover-lab-guest: engine failed/.test(text)) {
      throw new EnvironmentError(`dockerd did not start in the guest:\n${lastLines(text, 10)}`);
    }
    if (await pingOnce(a.docker)) return;
    if (performance.now() > deadline) {
      const where = lastLines(text, 8) || "(the console is empty: the kernel never printed a line)";
      throw new WaitTimeoutError(`the qemu guest's Docker engine to answer on 127.0.0.1:${a.port} (${a.accelerator.toUpperCase()})`, a.timeoutMs, {
        remedy:
          (a.accelerator === "kvm" ? "KVM guests hang on some nested hosts; use the default accelerator (tcg). " : "") +
          `Last console lines:\n${where}`,
      });
    }
    await sleep(500);
  }
}

async function pingOnce(docker: Dockerode): Promise<boolean> {
  try {
    await Promise.race([docker.ping(), sleep(3_000).then(() => Promise.reject(new Error("no answer")))]);
    return true;
  } catch {
    return false;
  }
}

function lastLines(text: string, n: number): string {
  return text.trimEnd().split("\n").slice(-n).join("\n");
}

/**
 * The data disk: the cached one when nobody else uses it, else a throwaway one in the run dir.
 * The cached disk is locked with a pid file; a lock whose process is gone is taken over.
 */
async function prepareDataDisk(
  image: GuestImage,
  runDir: string,
  persistent: boolean,
  size: string,
  reporter: Reporter,
): Promise<{ path: string; persistent: boolean; release: () => Promise<void> }> {
  const qemuImg = await which("qemu-img", { nothrow: true });
  if (!qemuImg) {
    throw new EnvironmentError("qemu-img is not installed (it makes the guest's data disk)", {
      remedy: "apt-get install -y --no-install-recommends qemu-utils",
    });
  }
  if (persistent) {
    const path = join(image.dir, "docker-data.qcow2");
    const lock = join(image.dir, "docker-data.lock");
    if (await takeLock(lock)) {
      if (!(await exists(path))) await execa(qemuImg, ["create", "-q", "-f", "qcow2", path, size]);
      return { path, persistent: true, release: () => rm(lock, { force: true }) };
    }
    reporter.warn("The cached guest data disk is in use by another guest; this one gets a throwaway disk (images are loaded again)");
  }
  const path = join(runDir, "docker-data.qcow2");
  await execa(qemuImg, ["create", "-q", "-f", "qcow2", path, size]);
  return { path, persistent: false, release: async () => {} };
}

async function takeLock(path: string): Promise<boolean> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(path, String(process.pid), { flag: "wx" });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const owner = Number(await readFile(path, "utf8").catch(() => ""));
    if (owner && alive(owner)) return false;
    await rm(path, { force: true });
  }
  return false;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** A port free on 127.0.0.1 right now (qemu binds it a moment later). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

function sendControl(socketPath: string, command: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect(socketPath, () => {
      s.end(`${command}\n`, () => resolve());
    });
    s.once("error", (err) => reject(new LabError(`Could not reach the guest's control port ${socketPath}: ${err.message}`)));
    s.setTimeout(5_000, () => s.destroy(new Error("timeout")));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref?.());
}

const killOnExit = new Set<ChildProcess>();

/** Never leave qemu behind when this process exits normally (setpriv covers SIGKILL). */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const p of killOnExit) {
      try {
        p.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
  });
}
