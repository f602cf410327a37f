/**
 * Lab networks: one Docker bridge per lab, on a subnet that overlaps neither the host's routes nor
 * any other Docker network, so every address the lab probes is the lab's own.
 */
import { readFile } from "node:fs/promises";
import type Dockerode from "dockerode";
import { EnvironmentError } from "../errors.ts";
import { type Cidr, cidrsOverlap, formatCidr, formatIpv4, mask, nthAddress, parseCidr } from "../ipv4.ts";

/** Subnets already taken: every Docker network's IPAM subnets and the host's IPv4 routes. */
export async function takenSubnets(docker: Dockerode): Promise<Array<{ cidr: Cidr; owner: string }>> {
  const taken: Array<{ cidr: Cidr; owner: string }> = [];
  for (const net of await docker.listNetworks()) {
    for (const cfg of net.IPAM?.Config ?? []) {
      const cidr = cfg.Subnet ? parseCidr(cfg.Subnet) : undefined;
      if (cidr) taken.push({ cidr, owner: `Docker network ${net.Name}` });
    }
  }
  for (const route of await hostRoutes()) taken.push({ cidr: route.cidr, owner: `host route via ${route.dev}` });
  return taken;
}

/** IPv4 routes of this host from /proc/net/route (the default route is skipped). */
export async function hostRoutes(): Promise<Array<{ cidr: Cidr; dev: string }>> {
  const text = await readFile("/proc/net/route", "utf8").catch(() => "");
  return parseProcNetRoute(text);
}

export function parseProcNetRoute(text: string): Array<{ cidr: Cidr; dev: string }> {
  const out: Array<{ cidr: Cidr; dev: string }> = [];
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const dest = littleEndianHex(f[1]!);
    const m = littleEndianHex(f[7]!);
    if (m === 0) continue; // default route
    const prefix = popcount(m);
    out.push({ cidr: { network: (dest & mask(prefix)) >>> 0, prefix }, dev: f[0]! });
  }
  return out;
}

function littleEndianHex(h: string): number {
  const n = parseInt(h, 16) >>> 0;
  return (((n & 0xff) << 24) | ((n >>> 8) & 0xff) << 16 | ((n >>> 16) & 0xff) << 8 | (n >>> 24)) >>> 0;
}

function popcount(n: number): number {
  let c = 0;
  for (let x = n >>> 0; x; x = (x & (x - 1)) >>> 0) c++;
  return c;
}

/** The default pool labs draw their subnets from: 10.213.0.0/24 … 10.213.255.0/24. */
export const SUBNET_POOL = { base: "10.213.0.0", prefix: 24, count: 256 } as const;

/** First /24 of the pool that overlaps nothing taken. */
export function pickFreeSubnet(taken: Cidr[]): Cidr | undefined {
  const base = parseCidr(`${SUBNET_POOL.base}/16`)!;
  for (let i = 0; i < SUBNET_POOL.count; i++) {
    const candidate: Cidr = { network: (base.network + i * 256) >>> 0, prefix: SUBNET_POOL.prefix };
    if (!taken.some((t) => cidrsOverlap(t, candidate))) return candidate;
  }
  return undefined;
}

export interface LabNetwork {
  id: string;
  name: string;
  subnet: Cidr;
  /** The bridge's address on the host side (.1). */
  gateway: string;
}

/**
 * Create the lab's network on a subnet that is free: the one asked for, or the first free /24 of
 * the pool. Creating it is what reserves the subnet (the engine refuses overlapping pools), so when
 * another lab takes a candidate first, the next free one is tried.
 */
export async function reserveLabNetwork(docker: Dockerode, name: string, labels: Record<string, string>, wanted: Cidr | undefined): Promise<LabNetwork> {
  if (wanted) return createLabNetwork(docker, name, wanted, labels);
  const lost: Cidr[] = [];
  for (let attempt = 0; attempt < 20; attempt++) {
    const candidate = pickFreeSubnet([...(await takenSubnets(docker)).map((t) => t.cidr), ...lost]);
    if (!candidate) break;
    try {
      return await createLabNetwork(docker, name, candidate, labels);
    } catch (err) {
      const message = (err as Error).message ?? "";
      if (!(err instanceof EnvironmentError) && !/overlap/i.test(message)) throw err;
      lost.push(candidate); // taken by someone else meanwhile: try the next one
    }
  }
  throw new EnvironmentError("No free /24 is left in 10.213.0.0/16 for a lab network", {
    remedy: "Remove old labs (`failover-lab down --all`) or set `network.subnet` in the topology.",
  });
}

export async function createLabNetwork(
  docker: Dockerode,
  name: string,
  subnet: Cidr,
  labels: Record<string, string>,
): Promise<LabNetwork> {
  const clash = (await takenSubnets(docker)).find((t) => cidrsOverlap(t.cidr, subnet));
  if (clash) {
    throw new EnvironmentError(`Subnet ${formatCidr(subnet)} overlaps ${formatCidr(clash.cidr)} (${clash.owner})`, {
      remedy: "Choose another `network.subnet` in the topology, or leave it out and the lab picks a free one.",
    });
  }
  const gateway = formatIpv4(nthAddress(subnet, 1));
  const network = await docker.createNetwork({
    Name: name,
    Driver: "bridge",
    CheckDuplicate: true,
    IPAM: { Driver: "default", Config: [{ Subnet: formatCidr(subnet), Gateway: gateway }] },
    Labels: labels,
  });
  return { id: network.id, name, subnet, gateway };
}
