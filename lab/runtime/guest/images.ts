/**
 * Getting the lab's images into the guest's engine: built (or found) on the host engine, then
 * `docker save` from the host streamed straight into the guest's load API — no registry, no build
 * inside the guest (its network is restricted, and apt under TCG would take minutes).
 *
 * The Debian base the host built FROM goes along, with its image id unchanged, so the guest's own
 * ImageBuilder computes the same content-hash tags and finds every image present: `deploy()` with
 * the guest's engine then never builds anything.
 */
import { Transform } from "node:stream";
import type Dockerode from "dockerode";
import { LabError } from "../../errors.ts";
import { type Reporter, silentReporter } from "../../report/reporter.ts";
import { BOOTSTRAP_IMAGE } from "../debian-bootstrap.ts";
import { IMAGE_PARENTS, type ImageName, ImageBuilder, UPSTREAM_DEBIAN_IMAGE } from "../images.ts";

export interface LoadImagesResult {
  /** Tag per image name (identical on host and guest). */
  tags: Partial<Record<ImageName, string>>;
  /** References that had to be transferred (empty when the guest's cached data disk had them). */
  transferred: string[];
  bytes: number;
  ms: number;
}

export interface LoadImagesOptions {
  host: Dockerode;
  guest: Dockerode;
  names: readonly ImageName[];
  reporter?: Reporter;
  /** Builds on the host engine; default a new ImageBuilder(host). */
  hostImages?: ImageBuilder;
}

export async function loadImagesIntoGuest(options: LoadImagesOptions): Promise<LoadImagesResult> {
  const reporter = options.reporter ?? silentReporter;
  const hostImages = options.hostImages ?? new ImageBuilder(options.host, reporter);
  // Every image of the chain (lb → base): ImageBuilder.ensure("lb") on the guest looks up "base" by tag too.
  const names = withParents(options.names);
  const tags: Partial<Record<ImageName, string>> = {};
  for (const name of names) tags[name] = await hostImages.ensure(name);
  const debian = await hostDebianBase(options.host);
  const refs = [...(debian ? [debian] : []), ...Object.values(tags)];

  const missing: string[] = [];
  for (const ref of refs) {
    const hostId = (await options.host.getImage(ref).inspect()).Id;
    const guestId = await options.guest
      .getImage(ref)
      .inspect()
      .then((i) => i.Id)
      .catch(() => undefined);
    if (guestId !== hostId) missing.push(ref);
  }
  const started = performance.now();
  let bytes = 0;
  if (missing.length > 0) {
    reporter.step(`Loading ${missing.join(", ")} into the guest's engine (docker save | load; about 70 s for the lb and web images under TCG)`);
    // GET /images/get?names=… (dockerode has getImages(), its type definitions do not).
    const withGetImages = options.host as unknown as { getImages(opts: { names: string[] }): Promise<NodeJS.ReadableStream> };
    const saved = await withGetImages.getImages({ names: missing });
    let lastReport = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        bytes += chunk.length;
        if (bytes - lastReport > 100 * 2 ** 20) {
          lastReport = bytes;
          reporter.detail(`  ${(bytes / 2 ** 20).toFixed(0)} MiB sent to the guest`);
        }
        done(null, chunk);
      },
    });
    saved.pipe(counter);
    const response = (await options.guest.loadImage(counter as unknown as string, { quiet: true })) as NodeJS.ReadableStream;
    const body = await readAll(response);
    const failure = body
      .split("\n")
      .map((l) => {
        try {
          return (JSON.parse(l) as { error?: string }).error;
        } catch {
          return undefined;
        }
      })
      .find(Boolean);
    if (failure) throw new LabError(`Loading images into the guest failed: ${failure}`);
    reporter.step(
      `Loaded ${(bytes / 2 ** 20).toFixed(0)} MiB of images into the guest in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  } else {
    reporter.step(`The guest's engine already has ${refs.join(", ")}`);
  }

  // The guest's ImageBuilder must see the same tags, or deploy() would try to build there.
  const guestStatus = await new ImageBuilder(options.guest, silentReporter).status();
  for (const name of names) {
    const s = guestStatus.find((g) => g.name === name);
    if (!s?.present || s.tag !== tags[name]) {
      throw new LabError(`Image ${name} is ${tags[name]} on the host but the guest's engine expects ${s?.tag ?? "?"}`, {
        remedy: "The Debian base differs between host and guest; remove failover-lab images from the guest's cached data disk.",
      });
    }
  }
  return { tags, transferred: missing, bytes, ms: Math.round(performance.now() - started) };
}

/** The names and their parents up to the Debian base, parents first. */
export function withParents(names: readonly ImageName[]): ImageName[] {
  const out: ImageName[] = [];
  const add = (name: ImageName) => {
    const parent = IMAGE_PARENTS[name] as string;
    if (parent !== "debian") add(parent as ImageName);
    if (!out.includes(name)) out.push(name);
  };
  for (const name of names) add(name);
  return out;
}

/** The Debian image the host's ImageBuilder builds FROM (same order as ImageBuilder). */
async function hostDebianBase(docker: Dockerode): Promise<string | undefined> {
  const wanted = process.env.FAILOVER_LAB_DEBIAN_IMAGE;
  for (const ref of wanted ? [wanted] : [UPSTREAM_DEBIAN_IMAGE, BOOTSTRAP_IMAGE]) {
    const present = await docker
      .getImage(ref)
      .inspect()
      .then(() => true)
      .catch(() => false);
    if (present) return ref;
  }
  return undefined;
}

function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    stream.on("data", (d: Buffer) => parts.push(Buffer.from(d)));
    stream.on("end", () => resolve(Buffer.concat(parts).toString("utf8")));
    stream.on("error", reject);
  });
}
