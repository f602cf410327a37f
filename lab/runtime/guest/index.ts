/**
 * An engine provider backed by a qemu guest, for scenarios that need IPVS (LVS) on a machine whose
 * own kernel has none: Debian's cloud kernel and a Debian root filesystem in a TCG guest, running a
 * Docker engine whose API is forwarded to 127.0.0.1:<port>. See README.md beside this file for the
 * design choice and the measurements behind it.
 *
 *   const image = await ensureGuestImage({ reporter });          // cached; built once per recipe
 *   await using guest = await startGuest({ image, reporter });   // ~25 s under TCG
 *   await loadImagesIntoGuest({ host, guest: guest.engine.docker, names: ["lb", "web"], reporter });
 *   await using lab = await deploy(spec, { engine: { ...guest.engine, pace: GUEST_PACE }, images: new ImageBuilder(guest.engine.docker, reporter) });
 *
 * Labs do not call this directly: runtime/engines.ts boots the guest when a topology needs IPVS and
 * the engine's kernel has none, once per process, with GUEST_PACE (engines.ts, pace.ts: few execs at once,
 * scaled timeouts).
 */
export { ensureGuestImage, type GuestImage, type EnsureGuestImageOptions } from "./build.ts";
export { Guest, liveGuests, startGuest, type Accelerator, type GuestStopResult, type StartGuestOptions } from "./qemu.ts";
export { loadImagesIntoGuest, withParents, type LoadImagesOptions, type LoadImagesResult } from "./images.ts";
export { engineIpvsSupport, hostIpvsSupport, interpretIpvsProbe, type IpvsSupport } from "./ipvs.ts";
export { GUEST_RECIPE_DIR, guestCacheRoot, readGuestRecipe, type GuestRecipe } from "./recipe.ts";
