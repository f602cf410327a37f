/**
 * A validated topology made concrete for one run: every node and VIP gets its address in the chosen
 * subnet, every VRRP instance its members, states and timers. Nothing here can fail for a topology
 * that passed validation.
 */
import { type Cidr, formatCidr, formatIpv4, nthAddress, parseIpv4, mask } from "../ipv4.ts";
import type { VrrpVersion } from "../protocol/vrrp-timing.ts";
import { durationMs, type NacosSpec, type Topology, type TrackScriptSpec, type UpstreamServerSpec } from "./schema.ts";
import { defaultInstances, NACOS_ADDRESSES, NACOS_PORTS, nacosNodeNames } from "./validate.ts";

export type NodeKind = "lb" | "web" | "client" | "nacos" | "mariadb";

export interface ResolvedNode {
  name: string;
  kind: NodeKind;
  address: string;
}

export interface InstanceMember {
  node: string;
  state: "MASTER" | "BACKUP";
  priority: number;
}

export interface ResolvedInstance {
  name: string;
  vrid: number;
  vips: string[];
  version: VrrpVersion;
  advertIntMs: number;
  /** In declaration order. */
  members: InstanceMember[];
  nopreempt: boolean;
  preemptDelayS: number;
  auth: { type: "PASS"; pass: string } | undefined;
  unicast: boolean;
  mcastSrcIp: boolean;
  track: string[];
  notify: boolean | string;
}

export interface ResolvedUpstreamServer extends UpstreamServerSpec {
  address: string;
  port: number;
}

/** The Nacos cluster of a topology, with its nodes' addresses. */
export interface ResolvedNacos {
  /** nacos1…nacosN, in order. */
  members: ResolvedNode[];
  storage: NacosSpec["storage"];
  /** The MariaDB node (storage: mysql). */
  database: ResolvedNode | undefined;
  /** The database the members use (storage: mysql); the password is a lab-only one. */
  db: { name: string; user: string; password: string; port: number } | undefined;
  heap: NacosSpec["heap"];
  proxy: NacosSpec["proxy"];
  /** HTTP (open API, console) and client gRPC, on the members and on the load balancers alike. */
  httpPort: number;
  grpcPort: number;
}

export interface ResolvedTopology {
  name: string;
  description: string | undefined;
  subnet: Cidr;
  /** e.g. "10.213.7.0/24" */
  subnetText: string;
  prefix: number;
  gateway: string;
  /** Every node, load balancers first. */
  nodes: ResolvedNode[];
  lbs: ResolvedNode[];
  webs: ResolvedNode[];
  client: ResolvedNode | undefined;
  vrrp: {
    version: VrrpVersion;
    instances: ResolvedInstance[];
    scripts: Record<string, TrackScriptSpec>;
  };
  nginx: Topology["nginx"] & { servers: ResolvedUpstreamServer[] };
  /** The Nacos cluster behind the load balancers, when the topology has one. */
  nacos: ResolvedNacos | undefined;
  /** The user's files when they bring their own configs (resolved paths). */
  byo: { nginx: string | undefined; keepalived: Record<string, string> | undefined };
  /** The declared topology, after defaults. */
  declared: Topology;
}

const FIRST_ADDRESS = { lb: 11, web: 21, client: 5 } as const;

export function resolveTopology(t: Topology, subnet: Cidr): ResolvedTopology {
  const at = (value: string | number | undefined, fallback: number): string => {
    if (value === undefined) return formatIpv4(nthAddress(subnet, fallback));
    if (typeof value === "number") return formatIpv4(nthAddress(subnet, value));
    // A full address written for another subnet would have failed validation; keep its host part.
    const ip = parseIpv4(value)!;
    return formatIpv4((subnet.network | (ip & ~mask(subnet.prefix))) >>> 0);
  };
  const lbs = Object.entries(t.lb).map(([name, n], i): ResolvedNode => ({ name, kind: "lb", address: at(n.address, FIRST_ADDRESS.lb + i) }));
  const webs = Object.entries(t.web).map(([name, n], i): ResolvedNode => ({ name, kind: "web", address: at(n.address, FIRST_ADDRESS.web + i) }));
  const client: ResolvedNode | undefined = t.client ? { name: "client", kind: "client", address: at(undefined, FIRST_ADDRESS.client) } : undefined;
  const nacos = t.nacos ? resolveNacos(t.nacos, (n) => at(undefined, n)) : undefined;

  const declared = t.keepalived.config ? {} : (t.keepalived.instances ?? defaultInstances(lbs.map((n) => n.name)));
  const instances = Object.entries(declared).map(([name, inst]): ResolvedInstance => {
    const byPriority = Object.entries(inst.priorities).sort((a, b) => b[1] - a[1]);
    const topNode = byPriority[0]?.[0];
    const members = Object.entries(inst.priorities).map(([node, priority]): InstanceMember => ({
      node,
      priority,
      state: inst.states?.[node] ?? (inst.nopreempt ? "BACKUP" : node === topNode ? "MASTER" : "BACKUP"),
    }));
    return {
      name,
      vrid: inst.virtualRouterId,
      vips: (inst.vips ?? [100]).map((v) => at(v, 100)),
      version: t.keepalived.version,
      advertIntMs: Math.round(inst.advertInt * 1000),
      members,
      nopreempt: inst.nopreempt,
      preemptDelayS: inst.preemptDelay,
      auth: inst.auth,
      unicast: inst.unicast,
      mcastSrcIp: inst.mcastSrcIp,
      track: inst.track,
      notify: inst.notify,
    };
  });

  const servers = (t.nginx.upstream.servers ?? webs.map((w) => ({ node: w.name }))).map((s): ResolvedUpstreamServer => ({
    ...s,
    address: webs.find((w) => w.name === s.node)!.address,
    port: 80,
  }));

  return {
    name: t.name,
    description: t.description,
    subnet,
    subnetText: formatCidr(subnet),
    prefix: subnet.prefix,
    gateway: formatIpv4(nthAddress(subnet, 1)),
    nodes: [...lbs, ...webs, ...(nacos?.database ? [nacos.database] : []), ...(nacos?.members ?? []), ...(client ? [client] : [])],
    lbs,
    webs,
    client,
    vrrp: { version: t.keepalived.version, instances, scripts: t.keepalived.scripts },
    nginx: { ...t.nginx, servers },
    nacos,
    byo: { nginx: t.nginx.config, keepalived: t.keepalived.config },
    declared: t,
  };
}

function resolveNacos(spec: NacosSpec, host: (n: number) => string): ResolvedNacos {
  const names = nacosNodeNames(spec);
  const database: ResolvedNode | undefined = names.database ? { name: names.database, kind: "mariadb", address: host(NACOS_ADDRESSES.database) } : undefined;
  return {
    members: names.members.map((name, i): ResolvedNode => ({ name, kind: "nacos", address: host(NACOS_ADDRESSES.firstMember + i) })),
    storage: spec.storage,
    database,
    db: database ? { name: "nacos", user: "nacos", password: "nacos-lab", port: 3306 } : undefined,
    heap: spec.heap,
    proxy: spec.proxy,
    httpPort: NACOS_PORTS.http,
    grpcPort: NACOS_PORTS.grpc,
  };
}

export { durationMs };
