/**
 * The topology a user declares, in TypeScript (`defineTopology`) or YAML (`*.lab.yml`). This schema is
 * the single definition of its shape: unknown fields are rejected, every field has a default or a
 * clear error. Relations between fields (a VIP inside the subnet, one VRID per network, nopreempt only
 * with state BACKUP, …) are checked afterwards, in resolve.ts, with the same kind of field-level error.
 *
 * Shape (YAML):
 *   name: pair
 *   network: { subnet: 10.213.7.0/24 }          # optional: a free /24 is picked
 *   lb:  { lb1: {}, lb2: {} }                   # load balancers: nginx + keepalived
 *   web: { web1: {}, web2: {} }                 # backends: nginx naming itself
 *   client: false                               # a client node (ARP view, captures)
 *   nginx: { mode: http, listen: 80, upstream: {...}, proxy: {...} }
 *   keepalived: { version: 2, scripts: {...}, instances: {...} }
 *   nacos: { members: 3, storage: embedded }     # optional: a Nacos cluster behind the VIP
 *   director: { lvs1: {}, lvs2: {} }             # LVS directors: keepalived managing IPVS
 *   lvs: { mode: DR, vip: 150, realServers: [...], check: {...}, vrrp: {...} }   # the directors' virtual service
 */
import { z } from "zod";

const NODE_NAME = /^[a-z][a-z0-9-]{0,23}$/;
const INSTANCE_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,31}$/;
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m)?$/;

export const nodeName = z
  .string()
  .regex(NODE_NAME, "must be 1–24 lowercase letters, digits or dashes, starting with a letter (e.g. lb1)");

/** Seconds, as a number, or a string like "500ms", "2s", "1m". */
export const duration = z.union([
  z.number().nonnegative().max(86_400),
  z.string().regex(DURATION, 'must be a duration like 2, "2s" or "500ms"'),
]);

export function durationMs(value: z.infer<typeof duration>): number {
  if (typeof value === "number") return value * 1000;
  const m = DURATION.exec(value)!;
  const n = Number(m[1]);
  return m[2] === "ms" ? n : m[2] === "m" ? n * 60_000 : n * 1000;
}

/** A host address: a full IPv4 address, or a host number inside the lab subnet (100 → x.y.z.100). */
const hostAddress = z.union([
  z.string().regex(/^\d{1,3}(\.\d{1,3}){3}$/, "must be an IPv4 address like 10.213.7.100"),
  z.number().int().min(1).max(65_534),
]);

const lbNode = z.strictObject({
  /** Fixed address (or host number); default .11, .12, … */
  address: hostAddress.optional(),
});

const webNode = z.strictObject({
  address: hostAddress.optional(),
});

const upstreamServer = z.strictObject({
  node: nodeName,
  weight: z.number().int().min(1).max(1000).optional(),
  maxFails: z.number().int().min(0).max(1000).optional(),
  failTimeout: duration.optional(),
  maxConns: z.number().int().min(0).max(100_000).optional(),
  backup: z.boolean().optional(),
  down: z.boolean().optional(),
});

const NEXT_UPSTREAM = ["error", "timeout", "invalid_header", "http_500", "http_502", "http_503", "http_504", "http_403", "http_404", "http_429", "non_idempotent", "off"] as const;

const nginx = z.strictObject({
  /** `http`: L7 reverse proxy (headers name the load balancer); `stream`: L4 TCP proxy. */
  mode: z.enum(["http", "stream"]).default("http"),
  listen: z.number().int().min(1).max(65_535).default(80),
  upstream: z
    .strictObject({
      balance: z.enum(["round-robin", "least_conn", "ip_hash", "hash"]).default("round-robin"),
      /** Key for `hash` (e.g. "$request_uri", "$remote_addr"). */
      hashKey: z
        .string()
        .min(1)
        .max(200)
        // One nginx token: a `;`, a brace, a quote or a space would end the directive and start others.
        .regex(/^[A-Za-z0-9_$.:\/-]+$/, 'must be nginx variables and text without spaces, quotes, ";" or braces (e.g. "$request_uri")')
        .optional(),
      consistent: z.boolean().default(false),
      /** Default: every web node, weight 1. */
      servers: z.array(upstreamServer).min(1).optional(),
    })
    .prefault({}),
  proxy: z
    .strictObject({
      nextUpstream: z.array(z.enum(NEXT_UPSTREAM)).min(1).default(["error", "timeout"]),
      nextUpstreamTries: z.number().int().min(0).max(100).default(0),
      nextUpstreamTimeout: duration.default(0),
      connectTimeout: duration.default("1s"),
      readTimeout: duration.default("5s"),
    })
    .prefault({}),
  /** Bring your own nginx.conf (path relative to the topology file), with {{placeholders}}. */
  config: z.string().min(1).optional(),
});

const trackScript = z.strictObject({
  /**
   * `nginx-running`: fails when no nginx process exists (the tutorials' check_nginx.sh).
   * `restart-nginx-or-stop-keepalived`: the tutorials' script: start nginx if it is gone, and stop
   *   keepalived when it still does not run 2 s later (it always exits 0).
   * `command`: your own command (`command:`); exit 0 = healthy.
   */
  check: z.enum(["nginx-running", "restart-nginx-or-stop-keepalived", "command"]).default("nginx-running"),
  command: z.string().min(1).max(2000).optional(),
  interval: z.number().int().min(1).max(3600).default(2),
  timeout: z.number().int().min(1).max(3600).optional(),
  fall: z.number().int().min(1).max(255).default(1),
  rise: z.number().int().min(1).max(255).default(1),
  /** Priority change while failing (negative) or while succeeding (positive); 0 = FAULT state on failure. */
  weight: z.number().int().min(-253).max(253).default(0),
});

const instance = z.strictObject({
  virtualRouterId: z.number().int().min(1).max(255),
  /** Host numbers inside the subnet or full addresses. Default: [100]. */
  vips: z.array(hostAddress).min(1).max(20).optional(),
  /** Seconds; fractions need VRRP version 3. */
  advertInt: z.number().positive().max(255).default(1),
  /** Priority of each load balancer in this instance, 1–254. */
  priorities: z.record(nodeName, z.number().int().min(1).max(254)),
  /** Initial state per node; default: the highest priority MASTER, the others BACKUP. */
  states: z.record(nodeName, z.enum(["MASTER", "BACKUP"])).optional(),
  nopreempt: z.boolean().default(false),
  /** Seconds to wait before preempting (keepalived preempt_delay). */
  preemptDelay: z.number().int().min(0).max(1000).default(0),
  auth: z
    .strictObject({
      type: z.literal("PASS"),
      pass: z.string().min(1),
    })
    .optional(),
  /** Unicast peers instead of multicast 224.0.0.18. */
  unicast: z.boolean().default(false),
  /** Send adverts from the node's own address explicitly (mcast_src_ip), as some tutorials do. */
  mcastSrcIp: z.boolean().default(false),
  /** Names of keepalived.scripts to track. */
  track: z.array(z.string()).default([]),
  /** Run a notify hook on every state change (logged to /var/log/lab/notify.log); a string is your own command. */
  notify: z.union([z.boolean(), z.string().min(1).max(2000)]).default(false),
});

const keepalived = z.strictObject({
  /** VRRP version: 2 (RFC 3768, whole-second adverts) or 3 (RFC 5798, centisecond adverts). */
  version: z.union([z.literal(2), z.literal(3)]).default(2),
  scripts: z.record(z.string().regex(INSTANCE_NAME, "script names are letters, digits, _ and -"), trackScript).default({}),
  instances: z.record(z.string().regex(INSTANCE_NAME, "instance names are letters, digits, _ and - (e.g. VI_1)"), instance).optional(),
  /** Bring your own keepalived.conf per load balancer (paths relative to the topology file). */
  config: z.record(nodeName, z.string().min(1)).optional(),
});

const directorNode = z.strictObject({
  /** Fixed address (or host number); default .51, .52, … */
  address: hostAddress.optional(),
});

/** IPVS schedulers (ipvsadm -s), as keepalived's lb_algo names them. */
export const LVS_ALGOS = ["rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh"] as const;

/**
 * keepalived's health check of every real server. Defaults are the seed document's (delay_loop 6,
 * connect_timeout 2, delay_before_retry 3) and retry 1: what its TCP_CHECK really gets, as its
 * `nb_get_retry 2` is unknown inside TCP_CHECK (it is the deprecated HTTP_GET spelling of `retry`)
 * and keepalived keeps its default, 1.
 */
const lvsCheck = z.strictObject({
  /** TCP_CHECK: a connection to the port; HTTP_GET: a GET of `path` answered with `statusCode`. */
  type: z.enum(["TCP_CHECK", "HTTP_GET"]).default("TCP_CHECK"),
  /** Seconds between checks of a healthy server (delay_loop). */
  delayLoop: z.number().positive().max(3600).default(6),
  /** Seconds a connection attempt may take (connect_timeout). */
  connectTimeout: z.number().positive().max(3600).default(2),
  /** Failed attempts retried before the server is removed (retry; the old HTTP_GET name was nb_get_retry). */
  retry: z.number().int().min(0).max(100).default(1),
  /** Seconds between those retries (delay_before_retry). */
  delayBeforeRetry: z.number().positive().max(3600).default(3),
  /** HTTP_GET: the URL path asked for. */
  path: z.string().regex(/^\/[A-Za-z0-9._~\/-]*$/, 'must be a URL path like "/" or "/health"').optional(),
  /** HTTP_GET: the status that counts as healthy. */
  statusCode: z.number().int().min(100).max(599).optional(),
});

const lvsRealServer = z.strictObject({
  /** A web node (nginx naming itself) or a load balancer node (nginx proxying to the web nodes). */
  node: nodeName,
  weight: z.number().int().min(0).max(65_535).default(1),
});

/**
 * One LVS virtual service on the directors (keepalived `virtual_server`), with the directors' VRRP
 * instance that carries its VIP. DR: the real servers answer the clients themselves (the VIP on
 * their `lo`, arp_ignore 1 / arp_announce 2); NAT: the director rewrites both ways (ip_forward on
 * the directors, the real servers route the clients through the VIP).
 */
const lvs = z.strictObject({
  /** keepalived lb_kind. */
  mode: z.enum(["DR", "NAT"]).default("DR"),
  /** The virtual service's address: a host number in the subnet or a full address. Default 150. */
  vip: hostAddress.default(150),
  port: z.number().int().min(1).max(65_535).default(80),
  protocol: z.literal("TCP").default("TCP"),
  /** keepalived lb_algo (IPVS scheduler). */
  algo: z.enum(LVS_ALGOS).default("rr"),
  /** Seconds a client stays on its real server after its last connection (persistence_timeout); absent: no persistence. */
  persistenceTimeout: z.number().int().min(1).max(86_400).optional(),
  /** Default: every load balancer node when there are any (the nginx tier), else every web node. */
  realServers: z.array(lvsRealServer).min(1).optional(),
  check: lvsCheck.prefault({}),
  /** The directors' VRRP instance for the VIP. */
  vrrp: z
    .strictObject({
      name: z.string().regex(INSTANCE_NAME, "instance names are letters, digits, _ and - (e.g. VI_1)").default("VI_1"),
      virtualRouterId: z.number().int().min(1).max(255).default(51),
      advertInt: z.number().positive().max(255).default(1),
      /** Default: 100 for the first director, then 50, … (the seed's 100 / 50). */
      priorities: z.record(nodeName, z.number().int().min(1).max(254)).optional(),
      auth: z.strictObject({ type: z.literal("PASS"), pass: z.string().min(1) }).optional(),
    })
    .prefault({}),
});

/** A JVM memory size as the JVM's -Xmx takes it: 512m, 1g, 262144k. */
const jvmSize = z.string().regex(/^[1-9]\d{0,6}[kmgKMG]$/, 'must be a JVM size like "512m" or "1g"');

/**
 * A Nacos 2.3.2 cluster (images/nacos) behind the load balancers: members nacos1…nacosN at .31, .32, …
 * in cluster mode; HTTP 8848 through an nginx `http` upstream and client gRPC 9848 through a `stream`
 * upstream on every load balancer, the VIP in front. With `storage: mysql`, a MariaDB node (`mariadb`,
 * .40) holds the data and is booted before the members.
 */
const nacos = z.strictObject({
  /** Cluster members; 3 is the smallest cluster that keeps a raft majority without one of them. */
  members: z.number().int().min(1).max(7).default(3),
  /** `embedded`: Derby replicated by JRaft (Nacos' cluster default); `mysql`: a MariaDB node. */
  storage: z.enum(["embedded", "mysql"]).default("embedded"),
  /** JVM heap of each member: JVM_XMS, JVM_XMX, JVM_XMN of the official image. */
  heap: z
    .strictObject({
      xms: jvmSize.default("256m"),
      xmx: jvmSize.default("512m"),
      xmn: jvmSize.default("128m"),
    })
    .prefault({}),
  /** How nginx proxies to the members (both upstreams). */
  proxy: z
    .strictObject({
      /** Retry the next member on these (HTTP); POSTs are retried only when nothing was sent yet. */
      nextUpstream: z.array(z.enum(NEXT_UPSTREAM)).min(1).default(["error", "timeout", "http_502", "http_503", "http_504"]),
      connectTimeout: duration.default("1s"),
      readTimeout: duration.default("10s"),
      /** A member that failed this often is left alone for failTimeout (0: never). */
      maxFails: z.number().int().min(0).max(1000).default(1),
      failTimeout: duration.default("10s"),
    })
    .prefault({}),
});

export const TopologySchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9-]{0,23}$/, "must be 1–24 lowercase letters, digits or dashes, starting with a letter"),
  description: z.string().max(2000).optional(),
  network: z
    .strictObject({
      /** CIDR of the lab network, e.g. 10.213.7.0/24. Default: a free /24 in 10.213.0.0/16. */
      subnet: z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, "must be a CIDR like 10.213.7.0/24").optional(),
    })
    .prefault({}),
  lb: z.record(nodeName, lbNode).default({ lb1: {}, lb2: {} }),
  web: z.record(nodeName, webNode).default({ web1: {}, web2: {} }),
  client: z.boolean().default(false),
  nginx: nginx.prefault({}),
  keepalived: keepalived.prefault({}),
  nacos: nacos.optional(),
  /** LVS directors: keepalived with virtual_server / real_server, ipvsadm to inspect. Needs `lvs`. */
  director: z.record(nodeName, directorNode).default({}),
  lvs: lvs.optional(),
});

/** What a user writes (defaults optional). */
export type TopologyInput = z.input<typeof TopologySchema>;
/** After defaults. */
export type Topology = z.output<typeof TopologySchema>;
export type TrackScriptSpec = z.output<typeof trackScript>;
export type InstanceSpec = z.output<typeof instance>;
export type UpstreamServerSpec = z.output<typeof upstreamServer>;
export type NacosSpec = z.output<typeof nacos>;
export type LvsSpec = z.output<typeof lvs>;
export type LvsCheckSpec = z.output<typeof lvsCheck>;

/** Declare a topology in TypeScript with completion and type checking. */
export function defineTopology(topology: TopologyInput): TopologyInput {
  return topology;
}
