/**
 * The guest's recipe (images/guest/) and where its build is cached. The cache key is a hash of every
 * recipe file plus GUEST_BUILDER_VERSION (bump it when the build steps in build.ts change), so the
 * guest is rebuilt exactly when its recipe changes.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { contextHash } from "../images.ts";

export const GUEST_RECIPE_DIR = fileURLToPath(new URL("../../../images/guest/", import.meta.url));

/** Bump when build.ts changes what it makes from the same recipe files. */
export const GUEST_BUILDER_VERSION = "1";

/** Debian release of the guest's root filesystem and kernel. */
export const GUEST_SUITE = "bookworm";

export interface GuestRecipe {
  dir: string;
  /** Short content hash: the cache key. */
  hash: string;
  packages: string[];
  modules: string[];
  prune: string[];
  /** Kernel metapackage, e.g. linux-image-cloud-amd64. */
  kernelPackage: string;
}

/** One entry per line (several separated by spaces allowed), `#` starts a comment. */
export function parseList(text: string): string[] {
  return text
    .split("\n")
    .map((l) => l.replace(/#.*/, "").trim())
    .filter(Boolean)
    .flatMap((l) => l.split(/\s+/));
}

export async function readGuestRecipe(dir = GUEST_RECIPE_DIR): Promise<GuestRecipe> {
  const read = async (name: string) => parseList(await readFile(join(dir, name), "utf8"));
  const h = createHash("sha256");
  h.update(await contextHash(dir));
  h.update(`\0builder=${GUEST_BUILDER_VERSION}\0suite=${GUEST_SUITE}\0arch=${process.arch}`);
  const kernel = await read("kernel");
  return {
    dir,
    hash: h.digest("hex").slice(0, 12),
    packages: await read("packages"),
    modules: await read("modules"),
    prune: await read("prune"),
    kernelPackage: kernel[0] ?? "linux-image-cloud-amd64",
  };
}

/** ~/.cache/failover-lab/guest (XDG_CACHE_HOME honoured; FAILOVER_LAB_GUEST_CACHE overrides). */
export function guestCacheRoot(): string {
  if (process.env.FAILOVER_LAB_GUEST_CACHE) return process.env.FAILOVER_LAB_GUEST_CACHE;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "failover-lab", "guest");
}
