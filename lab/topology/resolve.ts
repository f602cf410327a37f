/**
 * A validated topology made concrete for one run: every node and VIP gets its address in the chosen
 * subnet, every VRRP instance its members, states and timers. Nothing here can fail for a topology
 * that passed validation.
 */
import { type Cidr, formatCidr, formatIpv4, nthAddress, parseIpv4, mask } from "../ipv4.ts";
import type { VrrpVersion } from "../protocol/vrrp-timing.ts";
import { durationMs, type LvsCheckSpec, type LvsSpec, type NacosSpec, type Topology, type TrackScriptSpec, type UpstreamServerSpec } from "./schema.ts";
import { defaultInstances, defaultLvsPriorities, LVS_ADDRESSES, NACOS_ADDRESSES, NACOS_PORTS, nacosNodeNames } from "./validate.ts";

export type NodeKind = "lb" | "web" | "client" | "nacos" | "mariadb" | "director";

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

export interface ResolvedRealServer {
  node: string;
  kind: NodeKind;
  address: string;
  port: number;
  weight: number;
}

/** The LVS tier: directors running keepalived with one virtual service, and its real servers. */
export interface ResolvedLvs {
  mode: LvsSpec["mode"];
  vip: string;
  port: number;
  protocol: "TCP";
  algo: LvsSpec["algo"];
  /** Seconds; undefined: no persistence. */
  persistenceTimeoutS: number | undefined;
  directors: ResolvedNode[];
  realServers: ResolvedRealServer[];
  check: LvsCheckSpec;
  /** The directors' VRRP instance (also in `vrrp.instances`). */
  instance: string;
  /**
   * Where the virtual service's clients are: the client node and its extra source addresses, and
   * the lab bridge's gateway (this host). In NAT mode the real servers route these through the VIP.
   */
  clientAddresses: string[];
}

export interface ResolvedTopology {
  name: string;
  description: string | undefined;
  subnet: Cidr;
  /** e.g. "10.213.7.0/24" */
  subnetText: string;
  prefix: number;
  gateway: string;
  /** Every node: directors, load balancers, web nodes, …, the client last. */
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
  /** LVS directors (keepalived virtual_server). */
  directors: ResolvedNode[];
  /** The LVS virtual service, when the topology has one. */
  lvs: ResolvedLvs | undefined;
  /** Extra source addresses the client node may send from (an LVS client population: .6–.9). */
  clientSources: string[];
  /** The user's files when they bring their own configs (resolved paths). */
  byo: { nginx: string | undefined; keepalived: Record<string, string> | undefined };
  /** The declared topology, after defaults. */
  declared: Topology;
}

const FIRST_ADDRESS = { lb: 11, web: 21, client: 5, director: LVS_ADDRESSES.firstDirector } as const;

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
  const directors = Object.entries(t.director).map(([name, n], i): ResolvedNode => ({ name, kind: "director", address: at(n.address, FIRST_ADDRESS.director + i) }));
  // The clients of a virtual service are machines on the network: an LVS lab always has a client node.
  const client: ResolvedNode | undefined = t.client || t.lvs ? { name: "client", kind: "client", address: at(undefined, FIRST_ADDRESS.client) } : undefined;
  const clientSources = t.lvs ? LVS_ADDRESSES.clientSources.map((n) => at(undefined, n)) : [];
  const nacos = t.nacos ? resolveNacos(t.nacos, (n) => at(undefined, n)) : undefined;

  // An LVS topology's load balancers are the directors' real servers (nginx only) unless instances are declared.
  const declared = t.keepalived.config ? {} : (t.keepalived.instances ?? (t.lvs ? {} : defaultInstances(lbs.map((n) => n.name))));
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

  let lvsResolved: ResolvedLvs | undefined;
  if (t.lvs) {
    const spec = t.lvs;
    const vip = at(spec.vip, 150);
    const priorities = spec.vrrp.priorities ?? defaultLvsPriorities(directors.map((d) => d.name));
    const byPriority = Object.entries(priorities).sort((a, b) => b[1] - a[1]);
    instances.push({
      name: spec.vrrp.name,
      vrid: spec.vrrp.virtualRouterId,
      vips: [vip],
      version: t.keepalived.version,
      advertIntMs: Math.round(spec.vrrp.advertInt * 1000),
      members: Object.entries(priorities).map(([node, priority]): InstanceMember => ({ node, priority, state: node === byPriority[0]?.[0] ? "MASTER" : "BACKUP" })),
      nopreempt: false,
      preemptDelayS: 0,
      auth: spec.vrrp.auth ?? { type: "PASS", pass: "1111" },
      unicast: false,
      mcastSrcIp: false,
      track: [],
      notify: false,
    });
    const all = [...lbs, ...webs];
    const realServers = (spec.realServers ?? (lbs.length > 0 ? lbs : webs).map((n) => ({ node: n.name, weight: 1 }))).map((r): ResolvedRealServer => {
      const node = all.find((n) => n.name === r.node)!;
      return { node: node.name, kind: node.kind, address: node.address, port: spec.port, weight: r.weight };
    });
    lvsResolved = {
      mode: spec.mode,
      vip,
      port: spec.port,
      protocol: spec.protocol,
      algo: spec.algo,
      persistenceTimeoutS: spec.persistenceTimeout,
      directors,
      realServers,
      check: spec.check,
      instance: spec.vrrp.name,
      clientAddresses: [formatIpv4(nthAddress(subnet, 1)), ...(client ? [client.address] : []), ...clientSources],
    };
  }

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
    nodes: [...directors, ...lbs, ...webs, ...(nacos?.database ? [nacos.database] : []), ...(nacos?.members ?? []), ...(client ? [client] : [])],
    lbs,
    webs,
    client,
    vrrp: { version: t.keepalived.version, instances, scripts: t.keepalived.scripts },
    nginx: { ...t.nginx, servers },
    nacos,
    directors,
    lvs: lvsResolved,
    clientSources,
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
