/**
 * A Debian bookworm base image made from Debian packages (debootstrap + `docker import`), for
 * engines that cannot pull `debian:bookworm-slim`. The lab's Dockerfiles then build FROM it unchanged.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Dockerode from "dockerode";
import { execa } from "execa";
import which from "which";
import { CommandError, EnvironmentError } from "../errors.ts";
import type { Reporter } from "../report/reporter.ts";

export const BOOTSTRAP_REPO = "failover-lab/debian";
export const BOOTSTRAP_TAG = "bookworm-debootstrap";
export const BOOTSTRAP_IMAGE = `${BOOTSTRAP_REPO}:${BOOTSTRAP_TAG}`;

const DEFAULT_MIRROR = "http://deb.debian.org/debian";
const DEFAULT_SECURITY = "http://deb.debian.org/debian-security";

/** Debian mirrors named in this machine's apt sources, falling back to deb.debian.org. */
export async function hostDebianMirrors(): Promise<{ main: string; security: string }> {
  const texts: string[] = [];
  for (const file of ["/etc/apt/sources.list"]) texts.push(await readFile(file, "utf8").catch(() => ""));
  const dir = "/etc/apt/sources.list.d";
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (name.endsWith(".list") || name.endsWith(".sources")) texts.push(await readFile(join(dir, name), "utf8").catch(() => ""));
  }
  return parseDebianMirrors(texts.join("\n"));
}

/** Pick the main and security mirror URIs from apt sources (one-line or deb822 format). */
export function parseDebianMirrors(sources: string): { main: string; security: string } {
  const uris = [...sources.matchAll(/(?:^deb\s+(?:\[[^\]]*\]\s+)?|^URIs:\s*)(\S+)/gm)].map((m) => m[1]!.replace(/\/+$/, ""));
  const security = uris.find((u) => /\/debian-security$/.test(u)) ?? DEFAULT_SECURITY;
  const main = uris.find((u) => /\/debian$/.test(u)) ?? DEFAULT_MIRROR;
  return { main, security };
}

export interface BootstrapOptions {
  docker: Dockerode;
  reporter: Reporter;
  /** Where to look for debootstrap (default: PATH plus /usr/sbin and /sbin). */
  searchPath?: string;
}

/** Build and import the bootstrap image. Leaves no directory behind, whatever happens. */
export async function bootstrapDebianImage({ docker, reporter, searchPath }: BootstrapOptions): Promise<string> {
  if (process.getuid?.() !== 0) {
    throw new EnvironmentError("Cannot bootstrap a Debian base image: debootstrap needs root", {
      remedy:
        "Run once as root (e.g. `sudo npx failover-lab images`), or make `debian:bookworm-slim` available to the engine " +
        "(a reachable registry, `docker load`), or set FAILOVER_LAB_DEBIAN_IMAGE to a local Debian bookworm image.",
    });
  }
  const debootstrap = await which("debootstrap", { path: searchPath ?? `${process.env.PATH ?? ""}:/usr/sbin:/sbin`, nothrow: true });
  if (!debootstrap) {
    throw new EnvironmentError("No registry answered for debian:bookworm-slim and debootstrap is not installed", {
      remedy: "Install it (`apt-get install -y debootstrap`), or make `debian:bookworm-slim` available to the engine.",
    });
  }
  const mirrors = await hostDebianMirrors();
  const root = await mkdtemp(join(tmpdir(), "failover-lab-rootfs-"));
  try {
    reporter.step(`Bootstrapping Debian bookworm from ${mirrors.main} (debootstrap, about a minute)`);
    const args = ["--variant=minbase", "bookworm", root, mirrors.main];
    await runStreaming(debootstrap, args, (line) => {
      if (line.startsWith("I: Retrieving") || line.startsWith("I: Installing") || line.startsWith("I: Configuring") || line.startsWith("I: Base")) {
        reporter.detail(line);
      }
    });
    await writeFile(
      join(root, "etc/apt/sources.list"),
      [
        `deb ${mirrors.main} bookworm main`,
        `deb ${mirrors.main} bookworm-updates main`,
        `deb ${mirrors.security} bookworm-security main`,
        "",
      ].join("\n"),
    );
    await rm(join(root, "var/cache/apt/archives"), { recursive: true, force: true });
    await rm(join(root, "var/lib/apt/lists"), { recursive: true, force: true });
    reporter.step(`Importing the root filesystem as ${BOOTSTRAP_IMAGE}`);
    const tar = execa("tar", ["-C", root, "--numeric-owner", "-c", "."], { reject: false, encoding: "buffer", buffer: { stdout: false } });
    const stream = await docker.importImage(tar.stdout as unknown as string, { repo: BOOTSTRAP_REPO, tag: BOOTSTRAP_TAG });
    await new Promise<void>((resolve, reject) =>
      docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve())),
    );
    const packed = await tar;
    if (packed.exitCode !== 0) {
      throw new CommandError("Packing the root filesystem failed", ["tar", "-c", root], packed.exitCode ?? null, String(packed.stderr));
    }
    return BOOTSTRAP_IMAGE;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

async function runStreaming(cmd: string, args: string[], onLine: (line: string) => void): Promise<void> {
  const lines: string[] = [];
  const proc = execa(cmd, args, { all: true, reject: false });
  for await (const line of proc.iterable({ from: "all" })) {
    lines.push(line);
    if (lines.length > 40) lines.shift();
    onLine(line);
  }
  const result = await proc;
  if (result.exitCode !== 0) {
    throw new CommandError("debootstrap failed", [cmd, ...args], result.exitCode ?? null, lines.join("\n"), {
      remedy: "Check that the Debian mirror above is reachable from this machine (see the last lines of its output).",
    });
  }
}
