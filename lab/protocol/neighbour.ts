/**
 * How long a client keeps sending a VIP's traffic to a MAC that no longer holds it, when nobody
 * tells it otherwise (no gratuitous ARP from the new owner). Linux's neighbour state machine: an entry
 * a gratuitous ARP updated is STALE; its next use moves it to DELAY for delay_first_probe_time, then
 * PROBE sends ucast_solicit unicast requests to the old MAC, retrans_time apart; unanswered, the entry
 * fails and the next packet resolves it afresh by broadcast, which the real owner answers.
 * (Documented in ip-sysctl.rst, neigh/default/*; the values are read from the client's own kernel.)
 */
import { readFile } from "node:fs/promises";
import { OBSERVATION_SLACK_MS, type ExpectedWindow } from "./vrrp-timing.ts";

export interface NeighbourTimers {
  delayFirstProbeMs: number;
  ucastSolicit: number;
  mcastSolicit: number;
  retransMs: number;
}

/** The client kernel's ARP timers for one interface, from /proc/sys/net/ipv4/neigh/<dev>/. */
export async function readNeighbourTimers(dev: string): Promise<NeighbourTimers | undefined> {
  const read = async (name: string) => Number((await readFile(`/proc/sys/net/ipv4/neigh/${dev}/${name}`, "utf8")).trim());
  try {
    return {
      delayFirstProbeMs: (await read("delay_first_probe_time")) * 1000,
      ucastSolicit: await read("ucast_solicit"),
      mcastSolicit: await read("mcast_solicit"),
      retransMs: await read("retrans_time_ms"),
    };
  } catch {
    return undefined;
  }
}

/** The longest a stale entry can point at the old owner: DELAY, the unicast probes, one broadcast. */
export function expectedStaleArpBound(t: NeighbourTimers): ExpectedWindow {
  const max = t.delayFirstProbeMs + t.ucastSolicit * t.retransMs + t.retransMs;
  return {
    minMs: 0,
    maxMs: max + OBSERVATION_SLACK_MS,
    formula:
      `without a gratuitous ARP from the owner, the client's kernel re-resolves a stale entry after delay_first_probe_time ${t.delayFirstProbeMs} ms ` +
      `+ ${t.ucastSolicit} unicast probes × ${t.retransMs} ms + one broadcast (${t.retransMs} ms) = ${max} ms, + ${OBSERVATION_SLACK_MS} ms observation slack`,
  };
}
