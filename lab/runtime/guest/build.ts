/**
 * Build (or reuse) the guest: Debian's kernel and a root filesystem made from Debian packages, packed
 * as an uncompressed initramfs (the root lives in the guest's RAM; an uncompressed cpio unpacks in
 * about 3 s under TCG where gunzip would be emulated too).
 *
 *   debootstrap --variant=minbase --include=<images/guest/packages> bookworm
 *   + the kernel package (linux-image-cloud-amd64's versioned dependency), unpacked with dpkg-deb
 *     (no initramfs-tools run: the root filesystem is the initramfs) and depmod'ed
 *   + images/guest/rootfs/ (init, guest-boot) and images/guest/modules
 *   - images/guest/prune (docs, apt caches, the docker CLI, unused driver families)
 *
 * Cached under ~/.cache/failover-lab/guest/<recipe hash>/ and rebuilt only when the recipe changes.
 * Needs root (debootstrap, chroot) and the host packages debootstrap and cpio.
 */
import { cp, mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import which from "which";
import { CommandError, EnvironmentError, WaitTimeoutError } from "../../errors.ts";
import { type Reporter, silentReporter } from "../../report/reporter.ts";
import { hostDebianMirrors } from "../debian-bootstrap.ts";
import { GUEST_SUITE, type GuestRecipe, guestCacheRoot, readGuestRecipe } from "./recipe.ts";

export interface GuestImage {
  /** Cache directory of this build: <cache>/<hash>/. */
  dir: string;
  hash: string;
  kernel: string;
  initrd: string;
  kernelVersion: string;
  /** Size of the initramfs in bytes (the guest's root filesystem, held in its RAM). */
  initrdBytes: number;
  /** How long the build took when it was made (seconds); 0 when this call reused the cache. */
  buildSeconds: number;
  reused: boolean;
  /** Debian packages installed in the guest's root, name → version. */
  packages: Record<string, string>;
}

interface Manifest {
  hash: string;
  kernelVersion: string;
  kernelPackage: string;
  builtAt: string;
  buildSeconds: number;
  initrdBytes: number;
  packages: Record<string, string>;
}

export interface EnsureGuestImageOptions {
  reporter?: Reporter;
  /** Cache root; default guestCacheRoot(). */
  cacheRoot?: string;
  recipe?: GuestRecipe;
  /** How long to wait for another process building the same recipe. Default 20 min. */
  lockTimeoutMs?: number;
}

const sbinPath = () => `${process.env.PATH ?? ""}:/usr/sbin:/sbin`;

/** The cached guest for the current recipe, building it first when missing. */
export async function ensureGuestImage(options: EnsureGuestImageOptions = {}): Promise<GuestImage> {
  const reporter = options.reporter ?? silentReporter;
  const recipe = options.recipe ?? (await readGuestRecipe());
  const root = options.cacheRoot ?? guestCacheRoot();
  const dir = join(root, recipe.hash);
  const cached = await readCached(dir);
  if (cached) {
    reporter.step(`Guest image ${recipe.hash} (kernel ${cached.kernelVersion}) reused from ${dir}`);
    return cached;
  }
  await mkdir(root, { recursive: true });
  const release = await acquireLock(join(root, `${recipe.hash}.lock`), options.lockTimeoutMs ?? 20 * 60_000, reporter);
  try {
    const again = await readCached(dir); // another process may have built it while we waited
    if (again) return again;
    return await build(recipe, root, dir, reporter);
  } finally {
    await release();
  }
}

async function readCached(dir: string): Promise<GuestImage | undefined> {
  try {
    const m = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8")) as Manifest;
    const initrd = join(dir, "initrd.cpio");
    const kernel = join(dir, "vmlinuz");
    if ((await stat(initrd)).size !== m.initrdBytes) return undefined;
    await stat(kernel);
    return {
      dir,
      hash: m.hash,
      kernel,
      initrd,
      kernelVersion: m.kernelVersion,
      initrdBytes: m.initrdBytes,
      buildSeconds: 0,
      reused: true,
      packages: m.packages,
    };
  } catch {
    return undefined;
  }
}

async function requireTools(): Promise<{ debootstrap: string; cpio: string }> {
  if (process.getuid?.() !== 0) {
    throw new EnvironmentError("Cannot build the qemu guest: debootstrap and chroot need root", {
      remedy: "Run once as root (the guest is then cached under ~/.cache/failover-lab/guest/ of that user).",
    });
  }
  const missing: string[] = [];
  const debootstrap = await which("debootstrap", { path: sbinPath(), nothrow: true });
  if (!debootstrap) missing.push("debootstrap");
  const cpio = await which("cpio", { path: sbinPath(), nothrow: true });
  if (!cpio) missing.push("cpio");
  if (!debootstrap || !cpio) {
    throw new EnvironmentError(`Cannot build the qemu guest: ${missing.join(" and ")} not installed`, {
      remedy: `apt-get install -y --no-install-recommends ${missing.join(" ")}`,
    });
  }
  return { debootstrap, cpio };
}

async function build(recipe: GuestRecipe, cacheRoot: string, dir: string, reporter: Reporter): Promise<GuestImage> {
  const tools = await requireTools();
  const started = performance.now();
  const work = join(cacheRoot, `.build-${recipe.hash}-${process.pid}`);
  const rootfs = join(work, "root");
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const phase = (what: string) => reporter.step(`  guest: ${what} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  try {
    const mirrors = await hostDebianMirrors();
    reporter.step(
      `Building the qemu guest ${recipe.hash}: Debian ${GUEST_SUITE} from ${mirrors.main}, ` +
        `${recipe.kernelPackage}, ${recipe.packages.join(" ")} (about 2 minutes, once)`,
    );
    await runLogged(
      tools.debootstrap,
      ["--variant=minbase", `--include=${recipe.packages.join(",")}`, GUEST_SUITE, rootfs, mirrors.main],
      "debootstrap",
      (line) => {
        if (/^I: (Retrieving|Validating|Base system|Configuring)/.test(line)) reporter.detail(line);
      },
    );
    phase("root filesystem bootstrapped");

    await writeFile(
      join(rootfs, "etc/apt/sources.list"),
      [`deb ${mirrors.main} ${GUEST_SUITE} main`, `deb ${mirrors.main} ${GUEST_SUITE}-updates main`, `deb ${mirrors.security} ${GUEST_SUITE}-security main`, ""].join("\n"),
    );
    await cp("/etc/resolv.conf", join(rootfs, "etc/resolv.conf")).catch(() => undefined);
    await chroot(rootfs, ["apt-get", "-q", "update"], "apt-get update in the guest root");
    const depends = await chroot(rootfs, ["apt-cache", "depends", "--important", recipe.kernelPackage], "apt-cache depends");
    const kernelPkg = /Depends:\s*(linux-image-\S+)/.exec(depends)?.[1];
    if (!kernelPkg) throw new EnvironmentError(`Cannot tell which kernel ${recipe.kernelPackage} depends on:\n${depends}`);
    // Unpacked beside the root, then moved in: `dpkg-deb -x … /` would replace the /lib symlink
    // (merged /usr) with a directory and break every program of the root.
    await chroot(
      rootfs,
      ["sh", "-c", 'set -e; cd /tmp; apt-get -q download "$1"; dpkg-deb -x /tmp/*.deb /tmp/k; mkdir -p /usr/lib/modules /boot; mv /tmp/k/lib/modules/* /usr/lib/modules/; mv /tmp/k/boot/* /boot/; rm -rf /tmp/k /tmp/*.deb', "sh", kernelPkg],
      `download ${kernelPkg}`,
    );
    const kernelVersion = (await readdir(join(rootfs, "lib/modules")))[0];
    if (!kernelVersion) throw new EnvironmentError(`${kernelPkg} unpacked no modules`);
    await rename(join(rootfs, "boot", `vmlinuz-${kernelVersion}`), join(work, "vmlinuz"));
    phase(`kernel ${kernelVersion} unpacked`);

    const packages = parsePackages(await chroot(rootfs, ["dpkg-query", "-W", "-f", "${Package} ${Version}\\n"], "dpkg-query"));
    // Prune (globs expanded inside the root by the shell), then add the recipe's own files.
    await chroot(rootfs, ["sh", "-c", 'for p in "$@"; do for f in /$p; do rm -rf "$f"; done; done', "sh", ...recipe.prune], "prune");
    await chroot(rootfs, ["depmod", kernelVersion], "depmod");
    await cp(join(recipe.dir, "rootfs"), rootfs, { recursive: true });
    await mkdir(join(rootfs, "etc/failover-lab"), { recursive: true });
    await writeFile(join(rootfs, "etc/failover-lab/modules"), recipe.modules.join("\n") + "\n");
    await writeFile(join(rootfs, "etc/hostname"), "failover-lab-guest\n");
    await writeFile(join(rootfs, "etc/resolv.conf"), "");
    await rm(join(rootfs, "etc/apt/sources.list"), { force: true });

    const initrd = join(work, "initrd.cpio");
    const packed = await execa("sh", ["-c", 'cd "$1" && find . -print0 | "$2" --null -o -H newc --quiet > "$3"', "sh", rootfs, tools.cpio, initrd], {
      reject: false,
      all: true,
    });
    if (packed.exitCode !== 0) throw new CommandError("Packing the guest's initramfs failed", ["cpio", "-o", "-H", "newc"], packed.exitCode ?? null, packed.all ?? "");
    const initrdBytes = (await stat(initrd)).size;
    await rm(rootfs, { recursive: true, force: true });
    const buildSeconds = Math.round((performance.now() - started) / 100) / 10;
    const manifest: Manifest = {
      hash: recipe.hash,
      kernelVersion,
      kernelPackage: kernelPkg,
      builtAt: new Date().toISOString(),
      buildSeconds,
      initrdBytes,
      packages,
    };
    await writeFile(join(work, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
    await rm(dir, { recursive: true, force: true });
    await rename(work, dir);
    await removeOtherBuilds(cacheRoot, recipe.hash, reporter);
    reporter.step(`Built the qemu guest ${recipe.hash} in ${buildSeconds} s: kernel ${kernelVersion}, root ${(initrdBytes / 2 ** 20).toFixed(0)} MiB, cached in ${dir}`);
    return {
      dir,
      hash: recipe.hash,
      kernel: join(dir, "vmlinuz"),
      initrd: join(dir, "initrd.cpio"),
      kernelVersion,
      initrdBytes,
      buildSeconds,
      reused: false,
      packages,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Guests of older recipes (and their data disks) go when a new one is built, unless a guest runs on them. */
async function removeOtherBuilds(cacheRoot: string, keep: string, reporter: Reporter): Promise<void> {
  for (const name of await readdir(cacheRoot).catch(() => [] as string[])) {
    if (name === keep || name.startsWith(".") || name.endsWith(".lock")) continue;
    const owner = Number(await readFile(join(cacheRoot, name, "docker-data.lock"), "utf8").catch(() => ""));
    if (owner && alive(owner)) continue;
    await rm(join(cacheRoot, name), { recursive: true, force: true });
    reporter.detail(`removed the guest of an older recipe: ${join(cacheRoot, name)}`);
  }
}

function parsePackages(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const [name, version] = line.trim().split(" ");
    if (name && version) out[name] = version;
  }
  return out;
}

async function chroot(rootfs: string, command: string[], what: string): Promise<string> {
  const r = await execa("chroot", [rootfs, ...command], {
    reject: false,
    all: true,
    env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", DEBIAN_FRONTEND: "noninteractive", LC_ALL: "C" },
    extendEnv: false,
  });
  if (r.exitCode !== 0) {
    throw new CommandError(`Building the qemu guest failed at ${what}`, ["chroot", rootfs, ...command], r.exitCode ?? null, r.all ?? "", {
      remedy: "Check that the Debian mirror in /etc/apt/sources.list* is reachable from this machine.",
    });
  }
  return r.stdout ?? "";
}

async function runLogged(cmd: string, args: string[], what: string, onLine: (line: string) => void): Promise<void> {
  const tail: string[] = [];
  const proc = execa(cmd, args, { all: true, reject: false });
  for await (const line of proc.iterable({ from: "all" })) {
    tail.push(line);
    if (tail.length > 40) tail.shift();
    onLine(line);
  }
  const r = await proc;
  if (r.exitCode !== 0) {
    throw new CommandError(`Building the qemu guest failed at ${what}`, [cmd, ...args], r.exitCode ?? null, tail.join("\n"), {
      remedy: "Check that the Debian mirror named above is reachable from this machine (see the last lines of its output).",
    });
  }
}

/** A lock directory holding the owner's pid; a lock whose owner is gone is taken over. */
async function acquireLock(path: string, timeoutMs: number, reporter: Reporter): Promise<() => Promise<void>> {
  const deadline = performance.now() + timeoutMs;
  let told = false;
  for (;;) {
    try {
      await mkdir(path);
      await writeFile(join(path, "pid"), String(process.pid));
      return () => rm(path, { recursive: true, force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const owner = Number(await readFile(join(path, "pid"), "utf8").catch(() => ""));
    if (!owner || !alive(owner)) {
      // A just-created lock has no pid file for a moment; only a lock older than 10 s without one is stale.
      const age = Date.now() - (await stat(path).then((s) => s.mtimeMs).catch(() => 0));
      if (owner || age > 10_000) {
        await rm(path, { recursive: true, force: true });
        continue;
      }
    }
    if (!told) {
      reporter.step(`Waiting for process ${owner} which is building the same qemu guest`);
      told = true;
    }
    if (performance.now() > deadline) throw new WaitTimeoutError(`process ${owner} to finish building the qemu guest (lock ${path})`, timeoutMs);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
