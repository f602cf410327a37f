/**
 * An engine provider backed by a qemu guest, for scenarios that need IPVS (LVS) on a machine whose
 * own kernel has none: Debian's cloud kernel and a Debian root filesystem in a TCG guest, running a
 * Docker engine whose API is forwarded to 127.0.0.1:<port>. See README.md beside this file for the
 * design choice and the measurements behind it.
 *
 *   const image = await ensureGuestImage({ reporter });          // cached; built once per recipe
 *   await using guest = await startGuest({ image, reporter });   // ~25 s under TCG
 *   await loadImagesIntoGuest({ host, guest: guest.engine.docker, names: ["lb", "web"], reporter });
 *   process.env.DOCKER_HOST = guest.engine.endpoint;              // testcontainers follows DOCKER_HOST
 *   await using lab = await deploy(spec, { engine: guest.engine, images: new ImageBuilder(guest.engine.docker, reporter) });
 */
export { ensureGuestImage, type GuestImage, type EnsureGuestImageOptions } from "./build.ts";
export { Guest, liveGuests, startGuest, type Accelerator, type GuestStopResult, type StartGuestOptions } from "./qemu.ts";
export { loadImagesIntoGuest, withParents, type LoadImagesOptions, type LoadImagesResult } from "./images.ts";
export { engineIpvsSupport, hostIpvsSupport, interpretIpvsProbe, type IpvsSupport } from "./ipvs.ts";
export { GUEST_RECIPE_DIR, guestCacheRoot, readGuestRecipe, type GuestRecipe } from "./recipe.ts";
