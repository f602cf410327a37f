/**
 * The lab's images: one folder each under images/, built on demand and reused until their build
 * context changes. The tag carries a content hash of the context (and of the parent image), so
 * "is it up to date?" is one inspect call and a second build with nothing changed takes no time.
 */
import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import type Dockerode from "dockerode";
import pTimeout from "p-timeout";
import { EnvironmentError, LabError } from "../errors.ts";
import type { Reporter } from "../report/reporter.ts";
import { BOOTSTRAP_IMAGE, bootstrapDebianImage } from "./debian-bootstrap.ts";
import { LABEL } from "./labels.ts";

export const IMAGES_DIR = fileURLToPath(new URL("../../images/", import.meta.url));
export const UPSTREAM_DEBIAN_IMAGE = "debian:bookworm-slim";

/** Each image and the image it builds FROM ("debian" = the Debian base, pulled or bootstrapped). */
export const IMAGE_PARENTS = {
  base: "debian",
  lb: "base",
  web: "base",
  nacos: "base",
  mariadb: "base",
} as const satisfies Record<string, string>;

export type ImageName = keyof typeof IMAGE_PARENTS;
export const IMAGE_NAMES = Object.keys(IMAGE_PARENTS) as ImageName[];

export interface ImageStatus {
  name: ImageName;
  tag: string;
  present: boolean;
}

/** sha256 over every file of a build context: relative path, executable bit and content. */
export async function contextHash(dir: string): Promise<string> {
  const files = await listFiles(dir);
  const h = createHash("sha256");
  for (const file of files) {
    const s = await stat(file);
    h.update(relative(dir, file));
    h.update(s.mode & 0o111 ? "\0x\0" : "\0-\0");
    h.update(await readFile(file));
    h.update("\0");
  }
  return h.digest("hex");
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(p)));
    else if (entry.isFile()) out.push(p);
  }
  return out.sort();
}

/** Builds and finds the lab's images on one engine. */
export class ImageBuilder {
  private readonly tags = new Map<string, Promise<string>>();

  private readonly docker: Dockerode;
  private readonly reporter: Reporter;
  private readonly imagesDir: string;
  private readonly parents: Record<string, string>;

  /**
   * @param options.imagesDir where the image folders are (default: the project's images/)
   * @param options.parents image → parent map (default IMAGE_PARENTS); tests pass their own images.
   */
  constructor(docker: Dockerode, reporter: Reporter, options: { imagesDir?: string; parents?: Record<string, string> } = {}) {
    this.docker = docker;
    this.reporter = reporter;
    this.imagesDir = options.imagesDir ?? IMAGES_DIR;
    this.parents = options.parents ?? IMAGE_PARENTS;
  }

  /** Tag of an image, building it (and its parents) if missing. */
  ensure(name: ImageName | (string & {})): Promise<string> {
    let tag = this.tags.get(name);
    if (!tag) {
      tag = this.build(name);
      this.tags.set(name, tag);
      tag.catch(() => this.tags.delete(name));
    }
    return tag;
  }

  async ensureAll(names: readonly ImageName[] = IMAGE_NAMES): Promise<Record<ImageName, string>> {
    const out = {} as Record<ImageName, string>;
    for (const name of names) out[name] = await this.ensure(name);
    return out;
  }

  /** Which images exist, without building anything. Needs the Debian base to know the base's hash. */
  async status(): Promise<ImageStatus[]> {
    const debian = await this.findDebianImage();
    const out: ImageStatus[] = [];
    const tags = new Map<string, string>();
    for (const name of IMAGE_NAMES) {
      const parent = this.parents[name]!;
      const parentIdentity = parent === "debian" ? (debian ?? "none") : tags.get(parent)!;
      const tag = tagFor(name, await this.hashFor(name, parentIdentity));
      tags.set(name, tag);
      out.push({ name, tag, present: await this.exists(tag) });
    }
    return out;
  }

  private async hashFor(name: string, parentIdentity: string): Promise<string> {
    const h = createHash("sha256");
    h.update(await contextHash(join(this.imagesDir, name)));
    h.update(parentIdentity);
    return h.digest("hex").slice(0, 12);
  }

  private async build(name: string): Promise<string> {
    const parent = this.parents[name];
    if (!parent) {
      throw new LabError(`There is no image "${name}". Images: ${Object.keys(this.parents).join(", ")}`);
    }
    let parentRef: string;
    let parentIdentity: string;
    let buildArgs: Record<string, string>;
    if (parent === "debian") {
      parentRef = await this.ensureDebianImage();
      parentIdentity = (await this.docker.getImage(parentRef).inspect()).Id;
      buildArgs = { DEBIAN_IMAGE: parentRef };
    } else {
      parentRef = await this.ensure(parent);
      parentIdentity = parentRef;
      buildArgs = { BASE_IMAGE: parentRef };
    }
    const hash = await this.hashFor(name, parentIdentity);
    const tag = tagFor(name, hash);
    if (await this.exists(tag)) return this.tagLatest(name, tag);

    const dir = join(this.imagesDir, name);
    const files = (await listFiles(dir)).map((f) => relative(dir, f));
    this.reporter.step(`Building image ${name} (${tag}) from images/${name}/`);
    const started = performance.now();
    const stream = await this.docker.buildImage(
      { context: dir, src: files },
      { t: tag, buildargs: buildArgs, labels: { [LABEL.contextHash]: hash }, rm: true, forcerm: true },
    );
    const lines: string[] = [];
    await new Promise<void>((resolve, reject) => {
      this.docker.modem.followProgress(
        stream,
        (err: Error | null, output: Array<{ error?: string }>) => {
          const failure = err?.message ?? output?.find((o) => o.error)?.error;
          if (failure) {
            reject(
              new EnvironmentError(`Building image ${name} failed: ${failure.trim()}\n${lines.slice(-20).join("\n")}`, {
                remedy:
                  `Fix images/${name}/Dockerfile or the network path to the Debian mirror (RUN apt-get needs it), ` +
                  "then run again; nothing was left behind.",
              }),
            );
          } else resolve();
        },
        (event: { stream?: string; status?: string }) => {
          const text = (event.stream ?? event.status ?? "").trimEnd();
          for (const line of text.split("\n")) {
            if (!line.trim()) continue;
            lines.push(line);
            if (lines.length > 200) lines.shift();
            if (/^Step \d+\/\d+ :/.test(line)) this.reporter.step(`  ${name}: ${line.slice(0, 110)}`);
            else this.reporter.detail(line);
          }
        },
      );
    });
    this.reporter.step(`Built ${tag} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return this.tagLatest(name, tag);
  }

  /**
   * Also tag the image `failover-lab/<name>:latest`, a stable name for people and for the compose
   * file (docker-compose.yml); the lab itself only ever uses the content-hash tag.
   */
  private async tagLatest(name: string, tag: string): Promise<string> {
    try {
      await this.docker.getImage(tag).tag({ repo: `failover-lab/${name}`, tag: "latest" });
    } catch (err) {
      throw new LabError(`Could not tag ${tag} as failover-lab/${name}:latest: ${(err as Error).message}`, { cause: err });
    }
    return tag;
  }

  /** The Debian base present on the engine, if any, without pulling or building. */
  private async findDebianImage(): Promise<string | undefined> {
    const wanted = process.env.FAILOVER_LAB_DEBIAN_IMAGE;
    for (const ref of wanted ? [wanted] : [UPSTREAM_DEBIAN_IMAGE, BOOTSTRAP_IMAGE]) {
      if (await this.exists(ref)) return (await this.docker.getImage(ref).inspect()).Id;
    }
    return undefined;
  }

  /**
   * The Debian image to build the base FROM: FAILOVER_LAB_DEBIAN_IMAGE if set; else the official
   * `debian:bookworm-slim` if present or pullable; else an image bootstrapped from Debian packages.
   */
  private async ensureDebianImage(): Promise<string> {
    const wanted = process.env.FAILOVER_LAB_DEBIAN_IMAGE;
    if (wanted) {
      if (await this.exists(wanted)) return wanted;
      if (await this.tryPull(wanted)) return wanted;
      throw new EnvironmentError(`FAILOVER_LAB_DEBIAN_IMAGE=${wanted} is neither on the engine nor pullable`, {
        remedy: "Load that image into the engine (`docker load`), or unset the variable to let the lab bootstrap one.",
      });
    }
    if (await this.exists(UPSTREAM_DEBIAN_IMAGE)) return UPSTREAM_DEBIAN_IMAGE;
    if (await this.exists(BOOTSTRAP_IMAGE)) return BOOTSTRAP_IMAGE;
    this.reporter.step(`Pulling ${UPSTREAM_DEBIAN_IMAGE}`);
    if (await this.tryPull(UPSTREAM_DEBIAN_IMAGE)) return UPSTREAM_DEBIAN_IMAGE;
    this.reporter.step(`No registry answered for ${UPSTREAM_DEBIAN_IMAGE}; making a Debian base from Debian packages instead`);
    return bootstrapDebianImage({ docker: this.docker, reporter: this.reporter });
  }

  private async tryPull(ref: string): Promise<boolean> {
    try {
      const stream = await pTimeout(this.docker.pull(ref), { milliseconds: 60_000 });
      await pTimeout(
        new Promise<void>((resolve, reject) =>
          this.docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve())),
        ),
        { milliseconds: 600_000 },
      );
      return true;
    } catch (err) {
      this.reporter.detail(`pull ${ref}: ${(err as Error).message}`);
      return false;
    }
  }

  private async exists(ref: string): Promise<boolean> {
    try {
      await this.docker.getImage(ref).inspect();
      return true;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return false;
      throw new LabError(`Could not inspect image ${ref}: ${(err as Error).message}`, { cause: err });
    }
  }
}

export function tagFor(name: string, hash: string): string {
  return `failover-lab/${name}:${hash}`;
}

/** Remove the lab's images whose tag is not among the current ones (old content hashes). */
export async function pruneImages(docker: Dockerode, current: string[]): Promise<string[]> {
  const removed: string[] = [];
  for (const image of await docker.listImages({ filters: { label: [LABEL.contextHash] } })) {
    const tags = (image.RepoTags ?? []).filter((t) => t.startsWith("failover-lab/"));
    if (tags.length === 0 || tags.some((t) => current.includes(t))) continue;
    try {
      await docker.getImage(image.Id).remove();
      removed.push(...tags);
    } catch {
      /* in use by a container or a child image: leave it */
    }
  }
  return removed;
}
