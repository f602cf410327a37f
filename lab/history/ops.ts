/**
 * Everything that happens in a run is an op in one history, on one clock (ms since the run's start,
 * monotonic). Clients, observers and the nemesis all write here; checkers only read.
 *
 * Modelled on Jepsen's history: every op has an index, a time, the process that wrote it and a
 * function `f`. Fault ops come in pairs — `invoke` when the nemesis starts, then `ok` (done), `info`
 * (nothing to do, or outcome unknown) or `fail` — so a checker can anchor on either.
 */

export type FaultKind =
  | "kill-nginx"
  | "stop-nginx"
  | "start-nginx"
  | "break-nginx"
  | "repair-nginx"
  | "stop-keepalived"
  | "kill-keepalived"
  | "start-keepalived"
  | "power-off"
  | "power-on"
  | "reboot"
  | "freeze"
  | "thaw"
  | "stop-backend"
  | "start-backend"
  | "block-vrrp"
  | "unblock-vrrp"
  | "partition"
  | "heal-partition"
  | "link-down"
  | "link-up"
  | "drop-adverts"
  | "restore-adverts"
  | "join-rogue"
  | "remove-rogue"
  | "set-auth"
  | "kill-nacos"
  | "stop-nacos"
  | "start-nacos"
  | "stop-mariadb"
  | "start-mariadb"
  | (string & {});

interface OpBase {
  /** Position in the history (0-based, in order of `atMs`). */
  index: number;
  /** Milliseconds since the run's start on the monotonic clock. */
  atMs: number;
}

/** The nemesis changed the world (or tried to). */
export interface FaultOp extends OpBase {
  process: "nemesis";
  f: "fault";
  type: "invoke" | "ok" | "info" | "fail";
  kind: FaultKind;
  node: string;
  /** Links the invoke to its completion. */
  faultId: number;
  /** The fault's parameters (e.g. `{ direction: "in", peer: "lb2" }`), on the invoke. */
  params?: Record<string, string | number | boolean>;
  /** What happened, in words (e.g. "nginx is not running: nothing to kill"). */
  detail?: string;
  /**
   * On an `ok`: when the fault took effect inside the node, as the node or the engine timed it —
   * the signal sent (stamped in the node by labctl), the node's death or start (the engine's own
   * time). Between the `invoke` and the `ok`; absent when nothing finer than the `ok` is known.
   */
  effectAtMs?: number;
}

/** A VIP appeared on or disappeared from a node's interface. */
export interface VipOp extends OpBase {
  process: "observer";
  f: "vip";
  node: string;
  vip: string;
  event: "acquired" | "released";
  /**
   * How it was seen: `monitor` (the node's `ip monitor`), `snapshot` (present when the watch
   * (re)started), `node-down` (the node lost power, and its interface with it).
   */
  source: "monitor" | "snapshot" | "node-down";
}

export type VrrpState = "INIT" | "BACKUP" | "MASTER" | "FAULT" | "STOP";

/** keepalived changed the state of a VRRP instance, as its log says. */
export interface VrrpOp extends OpBase {
  process: "observer";
  f: "vrrp";
  node: string;
  instance: string;
  from: VrrpState;
  to: VrrpState;
  /** The log line, verbatim. */
  line: string;
}

/** A keepalived log line worth keeping (warnings, priority-0 adverts, auth complaints). */
export interface LogOp extends OpBase {
  process: "observer";
  f: "log";
  node: string;
  daemon: string;
  line: string;
}

export type RequestOutcome = "ok" | "http-error" | "refused" | "timeout" | "reset" | "error";

/** One request of the client's stream against a VIP. `atMs` is its start. */
export interface RequestOp extends OpBase {
  process: "client";
  f: "request";
  /** Which stream (a scenario may run one per VIP). */
  stream: string;
  target: string;
  endMs: number;
  outcome: RequestOutcome;
  status?: number;
  /** Load balancer that served it (from its response header, or from the peer address for L4). */
  lb?: string;
  /** Backend that served it (its response header). */
  backend?: string;
  /** The client address it was sent from, when the stream sends from several (an LVS client population). */
  source?: string;
  /** The client's port (its connection's name in an LVS director's connection table), when the stream knows it. */
  sourcePort?: number;
  error?: string;
}

/**
 * The client's neighbour (ARP) entry for a VIP changed: which MAC — and so which node — the client
 * sends the VIP's traffic to. Seen on the host that runs the client stream (`ip monitor neigh` on the
 * lab's bridge).
 */
export interface ArpOp extends OpBase {
  process: "observer";
  f: "arp";
  vip: string;
  /** null when the entry was deleted or failed. */
  mac: string | null;
  /** The lab node with that MAC, if any. */
  node: string | null;
  /** The kernel's neighbour state (REACHABLE, STALE, DELAY, PROBE, FAILED, …) or "deleted". */
  state: string;
}

/** A gratuitous ARP for a VIP seen on the wire (tcpdump on the client node). */
export interface GarpOp extends OpBase {
  process: "observer";
  f: "garp";
  vip: string;
  mac: string;
  node: string | null;
}

/**
 * What a Nacos call did: naming (`register`, `beat`, `list`), config (`publish`, `get-config`), the
 * cluster's own view of its members (`cluster-nodes`), and a gRPC `server-check` on the client gRPC port.
 */
export type NacosOperation = "register" | "beat" | "list" | "publish" | "get-config" | "cluster-nodes" | "server-check";

/**
 * One call of the Nacos workload, through the VIP (open API over HTTP, or gRPC). `atMs` is its
 * start. A call is failed when its outcome is not `ok`, like a request (`RequestOutcome`); an answer
 * Nacos gives as an error (HTTP ≥ 400 other than a config that does not exist, a gRPC status or an
 * error resultCode) is `http-error`.
 */
export interface NacosOp extends OpBase {
  process: "client";
  f: "nacos";
  operation: NacosOperation;
  /** The service name (naming) or the dataId (config), within the workload's group. */
  key?: string;
  /** `publish`: the content written; `get-config`: the content read (absent when the config does not exist). */
  value?: string;
  /** `get-config`: whether the config exists (false on Nacos' 404 "config data not exist"); `beat`: whether Nacos knew the instance (false: code 20404, it is registered again). */
  found?: boolean;
  /** `register`, `beat`: the instance, "ip:port". */
  instance?: string;
  /** `list`: the instances listed, "ip:port", sorted. */
  instances?: string[];
  /** `cluster-nodes`: each member's state (UP, DOWN, SUSPICIOUS, STARTING, …) as the answering member sees it, by node name. */
  members?: Record<string, string>;
  /** `final`: a read of the end-of-run verification (every acknowledged write read back). */
  phase?: "final";
  endMs: number;
  outcome: RequestOutcome;
  /** HTTP status (open API) or gRPC status (server-check). */
  status?: number;
  /** The load balancer that answered (X-Lab-LB); unknown for gRPC, which nginx passes on at L4. */
  lb?: string;
  /** The member whose answer the client got (the last address of X-Lab-Upstream), by node name. */
  member?: string;
  /** Members nginx tried before it (routed around), by node name. */
  triedFirst?: string[];
  error?: string;
}

/**
 * One Nacos member's own view of the cluster (`GET /nacos/v1/core/cluster/nodes` on 127.0.0.1 inside
 * the member, about every second): how that member sees every member's state. `atMs`..`endMs` is when
 * it was asked. Not a workload call: it never passes the load balancers.
 */
export interface NacosViewOp extends OpBase {
  process: "observer";
  f: "nacos-view";
  /** The member asked. */
  node: string;
  endMs: number;
  /** Each member's state (UP, DOWN, SUSPICIOUS, STARTING, …) in its view, by node name; absent when it did not answer. */
  members?: Record<string, string>;
  /** Why there is no view (the JVM is not running, no answer within 2 s, …). */
  error?: string;
}

/** One virtual service of a director's IPVS table (`ipvsadm -Ln`). */
export interface IpvsService {
  /** "TCP 10.213.7.150:80" */
  service: string;
  /** The scheduler, e.g. "rr". */
  scheduler: string;
  /** What follows it, e.g. "persistent 5". */
  flags: string;
  realServers: Array<{
    /** "10.213.7.21:80" */
    address: string;
    /** Route (DR), Masq (NAT), Tunnel, Local. */
    forward: string;
    weight: number;
  }>;
}

/**
 * A director's IPVS table changed (or was first read): every virtual service with its real servers,
 * as `ipvsadm -Ln` polled in the node printed it. Connection counters are left out: an op is written
 * only when services, real servers, forwarding methods or weights change.
 */
export interface IpvsOp extends OpBase {
  process: "observer";
  f: "ipvs";
  node: string;
  services: IpvsService[];
  /** ipvsadm failed (no IPVS in the kernel, …): what it said. */
  error?: string;
}

/** A scenario's own marker ("steady state reached", "recovery"). */
export interface NoteOp extends OpBase {
  process: "scenario";
  f: "note";
  label: string;
}

export type Op = FaultOp | VipOp | VrrpOp | LogOp | RequestOp | ArpOp | GarpOp | NacosOp | NacosViewOp | IpvsOp | NoteOp;

/** An op before the history numbers it. */
export type NewOp = Op extends infer T ? (T extends Op ? Omit<T, "index"> : never) : never;
