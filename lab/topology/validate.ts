/**
 * Validation of a topology before anything starts: the schema (shapes, ranges, unknown fields) and
 * then the relations between fields. Every problem is reported at once, each with the field's path
 * and the fix; TopologyError carries them all.
 */
import { z } from "zod";
import { TopologyError, type TopologyIssue } from "../errors.ts";
import { type Cidr, cidrContains, formatIpv4, isHostAddress, nthAddress, parseCidr, parseIpv4, mask } from "../ipv4.ts";
import { type Topology, TopologySchema } from "./schema.ts";

/** Limits that keep a lab within what one machine runs; also what bounds hostile input. */
export const LIMITS = { loadBalancers: 8, webNodes: 16, directors: 8 } as const;

/** Where the LVS tier lives: directors at .51, .52, …; the client's extra source addresses .6–.9. */
export const LVS_ADDRESSES = { firstDirector: 51, clientSources: [6, 7, 8, 9] } as const;

/** The seed's priorities for a director pair: 100 for the first, 50 for the next, then 40, 30, … */
export function defaultLvsPriorities(directors: readonly string[]): Record<string, number> {
  return Object.fromEntries(directors.map((d, i) => [d, i === 0 ? 100 : Math.max(1, 60 - 10 * i)]));
}

/** Fields people bring from nginx or keepalived habits, with what to do instead. */
const KNOWN_MISTAKES: Record<string, string> = {
  slow_start: "slow_start is an NGINX Plus feature; open-source nginx rejects it. Remove it.",
  slowStart: "slow_start is an NGINX Plus feature; open-source nginx rejects it. Remove it.",
  nb_get_retry: "nb_get_retry is the old name of keepalived's `retry`.",
  virtual_router_id: "write virtualRouterId",
  advert_int: "write advertInt",
  auth_pass: "write auth: { type: PASS, pass: ... }",
  priority: "priorities are per node: priorities: { lb1: 100, lb2: 90 }",
  state: "states are per node: states: { lb1: MASTER, lb2: BACKUP }",
  virtual_ipaddress: "write vips: [100] (host numbers in the lab subnet) or full addresses",
  virtual_server: "declare the virtual service as `lvs: { vip: 150, port: 80, ... }` and its directors under `director`",
  real_server: "write lvs.realServers: [{ node: web1 }]",
  lb_kind: "write lvs.mode: DR or NAT",
  lb_algo: "write lvs.algo (rr, wrr, lc, …)",
  delay_loop: "write lvs.check.delayLoop",
  connect_timeout: "write lvs.check.connectTimeout",
  delay_before_retry: "write lvs.check.delayBeforeRetry",
  persistence_timeout: "write lvs.persistenceTimeout",
  TCP_CHECK: "write lvs.check: { type: TCP_CHECK }",
  HTTP_GET: "write lvs.check: { type: HTTP_GET, path: / }",
};

export interface ValidateOptions {
  /** Where the topology came from, for messages (a file path, or "topology"). */
  source?: string;
  /** Resolve issue paths to file lines (YAML loading supplies it). */
  lineOf?: (path: readonly PropertyKey[]) => number | undefined;
}

/** Parse and check a topology; throws TopologyError listing every problem. */
export function validateTopology(input: unknown, options: ValidateOptions = {}): Topology {
  const issues: TopologyIssue[] = [];
  // reportInput: zod 4 leaves the offending value out of its issues otherwise, and a wrong type would
  // read as a missing field ("is required").
  const parsed = TopologySchema.safeParse(input, { reportInput: true });
  if (!parsed.success) {
    for (const issue of withoutSafeIntegerEchoes(parsed.error.issues)) issues.push(...fromZodIssue(issue));
  } else {
    issues.push(...checkRelations(withDefaults(parsed.data)));
  }
  if (issues.length > 0) {
    for (const issue of issues) {
      if (options.source && !issue.file) issue.file = options.source;
      if (options.lineOf && issue.line === undefined) issue.line = options.lineOf(issue.path.split(".").filter(Boolean).map(keyOf));
    }
    throw new TopologyError(issues, options.source);
  }
  return withDefaults(parsed.data!);
}

/** The default check script of the default instance: the tutorials' check_nginx, tracked with weight −20. */
export const DEFAULT_CHECK_SCRIPT = { check: "nginx-running", interval: 1, fall: 2, rise: 2, weight: -20 } as const;

/**
 * Fill what the user left out with the tutorials' setup: when no instance is declared (and no
 * keepalived.conf brought), VI_1 with VRID 51, VIP .100, priorities 100, 90, …, tracking chk_nginx.
 */
export function withDefaults(t: Topology): Topology {
  // In an LVS topology the load balancers are nginx real servers; VRRP runs on the directors.
  if (t.keepalived.instances || t.keepalived.config || t.lvs) return t;
  const scripts = Object.keys(t.keepalived.scripts).length > 0 ? t.keepalived.scripts : { chk_nginx: { ...DEFAULT_CHECK_SCRIPT } };
  const instances = defaultInstances(Object.keys(t.lb));
  if (scripts.chk_nginx) instances.VI_1!.track = ["chk_nginx"];
  return { ...t, keepalived: { ...t.keepalived, scripts, instances } };
}

function keyOf(segment: string): PropertyKey {
  return /^\d+$/.test(segment) ? Number(segment) : segment;
}

function pathText(path: readonly PropertyKey[]): string {
  return path.map(String).join(".");
}

function fromZodIssue(issue: z.core.$ZodIssue): TopologyIssue[] {
  const at = pathText(issue.path);
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => {
      const path = at ? `${at}.${key}` : key;
      const known = Object.hasOwn(KNOWN_MISTAKES, key) ? KNOWN_MISTAKES[key] : undefined;
      return {
        path,
        message: `unknown field \`${key}\``,
        fix: known ?? (suggestFor(issue.path, key) ? `did you mean \`${suggestFor(issue.path, key)}\`?` : "remove it (see the topology reference in the README)"),
      };
    });
  }
  if (issue.code === "invalid_type" && issue.input === undefined) {
    return [{ path: at, message: "is required", fix: `add \`${String(issue.path.at(-1))}\`` }];
  }
  if (issue.code === "invalid_type") {
    return [{ path: at, message: `expected ${issue.expected}, got ${describe(issue.input)}` }];
  }
  if (issue.code === "invalid_key") {
    return [{ path: at, message: `key ${describe(issue.input)}: ${issue.issues[0]?.message ?? "not allowed"}` }];
  }
  if (issue.code === "too_big" || issue.code === "too_small") {
    const bound = issue.code === "too_big" ? `at most ${issue.maximum}` : `at least ${issue.minimum}`;
    const unit = issue.origin === "string" ? " characters" : issue.origin === "array" ? " entries" : "";
    return [{ path: at, message: `must be ${bound}${unit}, got ${describe(issue.input)}` }];
  }
  if (issue.code === "invalid_value") {
    return [{ path: at, message: `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}, got ${describe(issue.input)}` }];
  }
  if (issue.code === "invalid_union") {
    // Report the most specific branch's message.
    const first = issue.errors.flat()[0];
    return [{ path: at, message: first?.message ?? "has the wrong type", ...(first ? {} : {}) }];
  }
  return [{ path: at, message: issue.message }];
}

/**
 * An integer field beyond ±2^53 fails both zod's safe-integer bound and the field's own: keep the
 * field's ("at most 65535"), not the echo ("at most 9007199254740991").
 */
function withoutSafeIntegerEchoes(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  const key = (i: z.core.$ZodIssue) => pathText(i.path);
  const echo = (i: z.core.$ZodIssue) =>
    (i.code === "too_big" && Number(i.maximum) === Number.MAX_SAFE_INTEGER) || (i.code === "too_small" && Number(i.minimum) === Number.MIN_SAFE_INTEGER);
  return issues.filter((i) => !echo(i) || !issues.some((o) => o !== i && !echo(o) && key(o) === key(i)));
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

/** Known keys of the object at `path`, to suggest the closest one. */
function suggestFor(path: readonly PropertyKey[], key: string): string | undefined {
  let schema: z.ZodType = TopologySchema;
  for (const segment of path) {
    schema = unwrap(schema);
    if (schema instanceof z.ZodObject) schema = (schema.shape as Record<string, z.ZodType>)[String(segment)] ?? schema;
    else if (schema instanceof z.ZodRecord) schema = schema.valueType as z.ZodType;
    else return undefined;
  }
  schema = unwrap(schema);
  if (!(schema instanceof z.ZodObject)) return undefined;
  const keys = Object.keys(schema.shape);
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of keys) {
    const d = editDistance(k.toLowerCase(), key.toLowerCase());
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (let i = 0; i < 10; i++) {
    const def = (s as unknown as { _zod: { def: { innerType?: z.ZodType; type: string } } })._zod.def;
    if (def.innerType) s = def.innerType;
    else break;
  }
  return s;
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) dp[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      dp[i]![j] = Math.min(dp[i - 1]![j]! + 1, dp[i]![j - 1]! + 1, dp[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return dp[a.length]![b.length]!;
}

/** The default VRRP instance when none is declared: VI_1, VRID 51, VIP .100, priorities 100, 90, 80, … */
export function defaultInstances(lbNames: string[]): NonNullable<Topology["keepalived"]["instances"]> {
  return {
    VI_1: {
      virtualRouterId: 51,
      vips: [100],
      advertInt: 1,
      priorities: Object.fromEntries(lbNames.map((n, i) => [n, 100 - 10 * i])),
      nopreempt: false,
      preemptDelay: 0,
      auth: { type: "PASS", pass: "1111" },
      unicast: false,
      mcastSrcIp: false,
      track: [],
      notify: false,
    },
  };
}

/** Checks between fields. Needs no engine: the subnet, when absent, is a /24 chosen later. */
export function checkRelations(t: Topology): TopologyIssue[] {
  const issues: TopologyIssue[] = [];
  const add = (path: string, message: string, fix?: string) => issues.push({ path, message, ...(fix ? { fix } : {}) });

  const lbNames = Object.keys(t.lb);
  const webNames = Object.keys(t.web);
  const directorNames = Object.keys(t.director);
  if (lbNames.length === 0 && !t.lvs) add("lb", "needs at least one load balancer", "add e.g. `lb: { lb1: {}, lb2: {} }`");
  if (lbNames.length > LIMITS.loadBalancers) add("lb", `has ${lbNames.length} load balancers; at most ${LIMITS.loadBalancers}`);
  if (webNames.length > LIMITS.webNodes) add("web", `has ${webNames.length} web nodes; at most ${LIMITS.webNodes}`);
  if (directorNames.length > LIMITS.directors) add("director", `has ${directorNames.length} directors; at most ${LIMITS.directors}`);
  for (const name of lbNames.filter((n) => webNames.includes(n) || n === "client")) {
    add(`web.${name}`, `name "${name}" is used twice`, "give every node its own name (\"client\" is reserved)");
  }
  for (const name of directorNames.filter((n) => lbNames.includes(n) || webNames.includes(n) || n === "client")) {
    add(`director.${name}`, `name "${name}" is used twice`, "give every node its own name (\"client\" is reserved)");
  }
  for (const name of webNames.filter((n) => n === "client")) add(`web.${name}`, `name "client" is reserved for the client node`);

  // Subnet and addresses.
  let subnet: Cidr | undefined;
  if (t.network.subnet) {
    subnet = parseCidr(t.network.subnet);
    if (!subnet) add("network.subnet", `"${t.network.subnet}" is not a valid CIDR`, "use a form like 10.213.7.0/24");
    else if (subnet.prefix > 28 || subnet.prefix < 16) add("network.subnet", `prefix /${subnet.prefix} is out of range`, "use a prefix between /16 and /28 (a /24 is typical)");
    else if (formatIpv4(subnet.network) !== t.network.subnet.split("/")[0]) {
      add("network.subnet", `"${t.network.subnet}" has host bits set`, `use ${formatIpv4(subnet.network)}/${subnet.prefix}`);
    }
  }
  const hostCount = subnet ? 2 ** (32 - subnet.prefix) - 2 : 254;
  const taken = new Map<string, string>(); // address text → field path
  const checkAddress = (path: string, value: string | number | undefined) => {
    if (value === undefined) return;
    if (typeof value === "number") {
      if (value < 2 || value > hostCount) add(path, `host number ${value} is outside the subnet's hosts (2–${hostCount}; .1 is the gateway)`);
      const key = `#${value}`;
      if (taken.has(key)) add(path, `address .${value} is already used by ${taken.get(key)}`, "give every node and VIP its own address");
      taken.set(key, path);
      return;
    }
    const ip = parseIpv4(value);
    if (ip === undefined) return add(path, `"${value}" is not an IPv4 address`);
    if (!subnet) return add(path, `a full address (${value}) needs network.subnet`, "set network.subnet, or write a host number such as 100");
    if (!cidrContains(subnet, ip)) return add(path, `${value} is outside the lab subnet ${t.network.subnet}`, `use an address inside ${t.network.subnet}, or a host number`);
    if (!isHostAddress(subnet, ip)) return add(path, `${value} is the network or broadcast address of ${t.network.subnet}`);
    if (ip === nthAddress(subnet, 1)) return add(path, `${value} is the lab network's gateway`, "use another address; .1 belongs to the host's bridge");
    const key = `#${(ip & ~mask(subnet.prefix)) >>> 0}`;
    if (taken.has(key)) add(path, `address ${value} is already used by ${taken.get(key)}`, "give every node and VIP its own address");
    taken.set(key, path);
  };
  for (const [name, node] of Object.entries(t.lb)) checkAddress(`lb.${name}.address`, node.address);
  for (const [name, node] of Object.entries(t.web)) checkAddress(`web.${name}.address`, node.address);
  for (const [name, node] of Object.entries(t.director)) checkAddress(`director.${name}.address`, node.address);

  // keepalived scripts.
  for (const [name, script] of Object.entries(t.keepalived.scripts)) {
    if (script.check === "command" && !script.command) add(`keepalived.scripts.${name}.command`, "is required when check is `command`");
    if (script.check !== "command" && script.command) add(`keepalived.scripts.${name}.command`, `is only used with check: command (this script's check is ${script.check})`, "remove `command` or set check: command");
  }

  // keepalived config brought by the user replaces instances (they are read from the files).
  if (t.keepalived.config) {
    for (const node of Object.keys(t.keepalived.config)) {
      if (!lbNames.includes(node)) add(`keepalived.config.${node}`, `"${node}" is not a load balancer`, `load balancers are: ${lbNames.join(", ")}`);
    }
    for (const node of lbNames) {
      if (!t.keepalived.config[node]) add(`keepalived.config`, `has no file for load balancer ${node}`, `add \`${node}: <path>\`, or remove keepalived.config to let the lab render it`);
    }
    if (t.keepalived.instances) add("keepalived.instances", "cannot be used together with keepalived.config", "declare instances in your keepalived.conf files, or remove keepalived.config");
  }

  const instances = t.keepalived.config ? {} : (t.keepalived.instances ?? (t.lvs ? {} : defaultInstances(lbNames)));
  const vrids = new Map<number, string>();
  if (t.lvs) vrids.set(t.lvs.vrrp.virtualRouterId, `the directors' instance ${t.lvs.vrrp.name} (lvs.vrrp)`);
  for (const [name, inst] of Object.entries(instances)) {
    const at = `keepalived.instances.${name}`;
    const other = vrids.get(inst.virtualRouterId);
    if (other) {
      add(`${at}.virtualRouterId`, `VRID ${inst.virtualRouterId} is already used by ${other} on the same network`, "give each instance its own virtualRouterId (1–255); two instances with one VRID fight over one virtual MAC");
    }
    vrids.set(inst.virtualRouterId, name);

    if (t.keepalived.version === 2 && (inst.advertInt < 1 || !Number.isInteger(inst.advertInt))) {
      add(`${at}.advertInt`, `${inst.advertInt} s is not possible with VRRP version 2, which advertises in whole seconds`, "set keepalived.version: 3 for sub-second adverts, or use a whole number of seconds");
    }
    if (t.keepalived.version === 3 && (Math.round(inst.advertInt * 100) !== Number((inst.advertInt * 100).toFixed(6)) || inst.advertInt < 0.01 || inst.advertInt > 40.95)) {
      add(`${at}.advertInt`, `${inst.advertInt} s is not a VRRPv3 interval (0.01–40.95 s in centiseconds)`);
    }

    const members = Object.keys(inst.priorities);
    if (members.length === 0) add(`${at}.priorities`, "names no load balancer", `give each participating load balancer a priority, e.g. { ${lbNames[0] ?? "lb1"}: 100 }`);
    for (const node of members) {
      if (!lbNames.includes(node)) add(`${at}.priorities.${node}`, `"${node}" is not a load balancer`, `load balancers are: ${lbNames.join(", ")}`);
    }
    for (const [node, state] of Object.entries(inst.states ?? {})) {
      if (!members.includes(node)) add(`${at}.states.${node}`, `"${node}" has no priority in ${name}`, `members of ${name} are: ${members.join(", ")}`);
      if (inst.nopreempt && state === "MASTER") {
        add(`${at}.states.${node}`, "nopreempt only works with state BACKUP: keepalived ignores it when the initial state is MASTER", "set every node of this instance to state BACKUP and let the priorities pick the first master");
      }
    }
    if (inst.auth && [...inst.auth.pass].length > 8) {
      add(`${at}.auth.pass`, `is ${[...inst.auth.pass].length} characters; keepalived keeps only the first 8 and ignores the rest`, "use at most 8 characters");
    }
    // keepalived's parser ends a word at a space, reads `!` and `#` as a comment and braces and quotes as syntax.
    if (inst.auth && (!/^[\x21-\x7e]+$/.test(inst.auth.pass) || /[{}"'#!\\]/.test(inst.auth.pass))) {
      add(`${at}.auth.pass`, "must be printable ASCII without spaces, quotes, braces, \\, # or ! (keepalived reads # and ! as the start of a comment)", "use letters, digits and punctuation such as - _ . @");
    }
    for (const script of inst.track) {
      if (!t.keepalived.scripts[script]) {
        const known = Object.keys(t.keepalived.scripts);
        add(`${at}.track`, `script "${script}" is not defined`, known.length ? `defined scripts: ${known.join(", ")}` : `define it under keepalived.scripts.${script}`);
      }
    }
    (inst.vips ?? [100]).forEach((vip, i) => checkAddress(`${at}.vips.${i}`, vip));
    if (inst.unicast && members.length < 2) add(`${at}.unicast`, "unicast needs at least two members (each lists the others as peers)");
  }

  // nginx.
  const servers = t.nginx.upstream.servers ?? webNames.map((node) => ({ node }));
  if (!t.nginx.config && servers.length === 0 && !t.nacos) add("web", "nginx has no backend to proxy to", "add a web node, e.g. `web: { web1: {} }`, or a Nacos cluster (`nacos: { members: 3 }`)");
  servers.forEach((server, i) => {
    if (!webNames.includes(server.node)) add(`nginx.upstream.servers.${i}.node`, `"${server.node}" is not a web node`, `web nodes are: ${webNames.join(", ") || "(none)"}`);
  });
  const balance = t.nginx.upstream.balance;
  if (balance === "hash" && !t.nginx.upstream.hashKey) add("nginx.upstream.hashKey", "is required with balance: hash", 'e.g. hashKey: "$request_uri"');
  if (balance !== "hash" && t.nginx.upstream.hashKey) add("nginx.upstream.hashKey", "is only used with balance: hash");
  if (balance !== "hash" && t.nginx.upstream.consistent) add("nginx.upstream.consistent", "is only used with balance: hash");
  if (balance === "ip_hash" || balance === "hash") {
    servers.forEach((s, i) => {
      if ("backup" in s && s.backup) add(`nginx.upstream.servers.${i}.backup`, `nginx does not support backup servers with ${balance}`, "remove backup, or use round-robin or least_conn");
    });
  }
  if (t.nginx.mode === "stream" && balance === "ip_hash") add("nginx.upstream.balance", "ip_hash exists only for http; the stream module balances by hash $remote_addr", 'use balance: hash with hashKey: "$remote_addr"');
  if (t.nginx.mode === "stream" && t.nginx.proxy.nextUpstream.some((n) => n.startsWith("http_") || n === "invalid_header" || n === "non_idempotent")) {
    add("nginx.proxy.nextUpstream", "HTTP conditions do not apply to stream (L4) proxying, which retries on connection errors only", "use [error, timeout] or [off]");
  }
  if (t.nacos) issues.push(...checkNacos(t, subnet));
  issues.push(...checkLvs(t, checkAddress));
  return issues;
}

/** The LVS tier: directors, the virtual service, its real servers, its checker, the directors' VRRP instance. */
function checkLvs(t: Topology, checkAddress: (path: string, value: string | number | undefined) => void): TopologyIssue[] {
  const issues: TopologyIssue[] = [];
  const add = (path: string, message: string, fix?: string) => issues.push({ path, message, ...(fix ? { fix } : {}) });
  const directors = Object.keys(t.director);
  const spec = t.lvs;
  if (!spec) {
    if (directors.length > 0) add("lvs", "is required with directors: it declares their virtual service", "add e.g. `lvs: { mode: DR, vip: 150 }`, or remove `director`");
    return issues;
  }
  if (directors.length === 0) add("director", "an `lvs` virtual service needs at least one director", "add e.g. `director: { lvs1: {}, lvs2: {} }`");
  checkAddress("lvs.vip", spec.vip);
  const lbNames = Object.keys(t.lb);
  const webNames = Object.keys(t.web);
  const servers = spec.realServers ?? (lbNames.length > 0 ? lbNames : webNames).map((node) => ({ node, weight: 1 }));
  if (servers.length === 0) add("lvs.realServers", "the virtual service has no real server", "add web nodes (`web: { web1: {} }`) or name them in lvs.realServers");
  const seen = new Set<string>();
  servers.forEach((s, i) => {
    const at = `lvs.realServers.${i}.node`;
    if (seen.has(s.node)) add(at, `"${s.node}" is listed twice`);
    seen.add(s.node);
    if (directors.includes(s.node)) add(at, `"${s.node}" is a director; a director cannot be its own real server`, `real servers are web or load balancer nodes: ${[...lbNames, ...webNames].join(", ") || "(none)"}`);
    else if (!lbNames.includes(s.node) && !webNames.includes(s.node)) add(at, `"${s.node}" is not a web or load balancer node`, `web and load balancer nodes: ${[...lbNames, ...webNames].join(", ") || "(none)"}`);
    else if (webNames.includes(s.node) && spec.port !== 80) add("lvs.port", `web node ${s.node} serves port 80 only; the virtual service is on ${spec.port}`, "use port 80, or load balancer nodes (nginx.listen) as real servers");
    else if (lbNames.includes(s.node) && spec.port !== t.nginx.listen) add("lvs.port", `load balancer ${s.node} listens on ${t.nginx.listen} (nginx.listen) but the virtual service is on ${spec.port}; ${spec.mode === "DR" ? "direct routing cannot change the port" : "the lab forwards to the same port"}`, `set lvs.port to ${t.nginx.listen}`);
  });
  const check = spec.check;
  if (check.type !== "HTTP_GET" && check.path !== undefined) add("lvs.check.path", "is only used with type HTTP_GET", "remove it, or set lvs.check.type: HTTP_GET");
  if (check.type !== "HTTP_GET" && check.statusCode !== undefined) add("lvs.check.statusCode", "is only used with type HTTP_GET", "remove it, or set lvs.check.type: HTTP_GET");
  const v = spec.vrrp;
  for (const node of Object.keys(v.priorities ?? {})) {
    if (!directors.includes(node)) add(`lvs.vrrp.priorities.${node}`, `"${node}" is not a director`, `directors are: ${directors.join(", ") || "(none)"}`);
  }
  if (v.priorities) {
    for (const d of directors.filter((d) => !(d in v.priorities!))) add("lvs.vrrp.priorities", `director ${d} has no priority`, `give every director a priority, e.g. { ${d}: 50 }`);
  }
  if (t.keepalived.version === 2 && (v.advertInt < 1 || !Number.isInteger(v.advertInt))) {
    add("lvs.vrrp.advertInt", `${v.advertInt} s is not possible with VRRP version 2, which advertises in whole seconds`, "set keepalived.version: 3 for sub-second adverts, or use a whole number of seconds");
  }
  if (v.auth && ([...v.auth.pass].length > 8 || !/^[\x21-\x7e]+$/.test(v.auth.pass) || /[{}"'#!\\]/.test(v.auth.pass))) {
    add("lvs.vrrp.auth.pass", "must be 1–8 printable ASCII characters without spaces, quotes, braces, \\, # or !", "use letters, digits and punctuation such as - _ . @");
  }
  if (Object.keys(t.keepalived.instances ?? {}).includes(v.name)) add("lvs.vrrp.name", `instance name ${v.name} is also used in keepalived.instances`, "give the directors' instance another name");
  return issues;
}

/** Where the Nacos members and the MariaDB node live: .31, .32, … and .40. */
export const NACOS_ADDRESSES = { firstMember: 31, database: 40 } as const;
/** Nacos' ports (NACOS_APPLICATION_PORT and its offsets): HTTP, client gRPC, member gRPC, raft. */
export const NACOS_PORTS = { http: 8848, grpc: 9848, memberGrpc: 9849, raft: 7848 } as const;

/** Names of the nodes a `nacos` section adds: nacos1…nacosN, and `mariadb` with MySQL storage. */
export function nacosNodeNames(spec: NonNullable<Topology["nacos"]>): { members: string[]; database: string | undefined } {
  return { members: Array.from({ length: spec.members }, (_, i) => `nacos${i + 1}`), database: spec.storage === "mysql" ? "mariadb" : undefined };
}

function jvmBytes(size: string): number {
  const n = Number(size.slice(0, -1));
  const unit = size.slice(-1).toLowerCase();
  return n * (unit === "g" ? 1024 ** 3 : unit === "m" ? 1024 ** 2 : 1024);
}

function checkNacos(t: Topology, subnet: Cidr | undefined): TopologyIssue[] {
  const issues: TopologyIssue[] = [];
  const add = (path: string, message: string, fix?: string) => issues.push({ path, message, ...(fix ? { fix } : {}) });
  const spec = t.nacos!;
  const { members, database } = nacosNodeNames(spec);
  const added = [...members, ...(database ? [database] : [])];
  for (const [section, names] of [["lb", Object.keys(t.lb)], ["web", Object.keys(t.web)]] as const) {
    for (const name of names.filter((n) => added.includes(n))) {
      add(`${section}.${name}`, `name "${name}" is taken by the Nacos cluster (its nodes are ${added.join(", ")})`, "rename this node");
    }
  }
  // The lab's own nodes sit at .11+ (lb), .21+ (web); Nacos at .31+ and MariaDB at .40.
  const reserved = new Map<number, string>(members.map((m, i) => [NACOS_ADDRESSES.firstMember + i, m]));
  if (database) reserved.set(NACOS_ADDRESSES.database, database);
  const webCount = Object.keys(t.web).length;
  if (webCount > NACOS_ADDRESSES.firstMember - 21) {
    add("web", `has ${webCount} web nodes; with a Nacos cluster at most ${NACOS_ADDRESSES.firstMember - 21} (.21–.30), as the members start at .${NACOS_ADDRESSES.firstMember}`, "remove web nodes");
  }
  const hostOf = (value: string | number | undefined): number | undefined => {
    if (typeof value === "number") return value;
    if (value === undefined || !subnet) return undefined;
    const ip = parseIpv4(value);
    return ip === undefined ? undefined : (ip & ~mask(subnet.prefix)) >>> 0;
  };
  const explicit: Array<[string, string | number | undefined]> = [
    ...Object.entries(t.lb).map(([n, v]): [string, string | number | undefined] => [`lb.${n}.address`, v.address]),
    ...Object.entries(t.web).map(([n, v]): [string, string | number | undefined] => [`web.${n}.address`, v.address]),
    ...Object.entries(t.keepalived.instances ?? {}).flatMap(([name, inst]) => (inst.vips ?? []).map((v, i): [string, string | number | undefined] => [`keepalived.instances.${name}.vips.${i}`, v])),
  ];
  for (const [path, value] of explicit) {
    const host = hostOf(value);
    const owner = host === undefined ? undefined : reserved.get(host);
    if (owner) add(path, `address .${host} belongs to Nacos node ${owner}`, `Nacos members take .${NACOS_ADDRESSES.firstMember}–.${NACOS_ADDRESSES.firstMember + members.length - 1}${database ? ` and ${database} .${NACOS_ADDRESSES.database}` : ""}; use another address`);
  }
  const ports: number[] = [NACOS_PORTS.http, NACOS_PORTS.grpc];
  if (!t.nginx.config && ports.includes(t.nginx.listen)) {
    add("nginx.listen", `port ${t.nginx.listen} is where the load balancers serve Nacos (HTTP ${NACOS_PORTS.http}, gRPC ${NACOS_PORTS.grpc})`, "listen on another port for the web backends, e.g. 80");
  }
  const { xms, xmx, xmn } = spec.heap;
  if (jvmBytes(xms) > jvmBytes(xmx)) add("nacos.heap.xms", `initial heap ${xms} is larger than the maximum ${xmx}`, "make xms at most xmx");
  if (jvmBytes(xmn) >= jvmBytes(xmx)) add("nacos.heap.xmn", `young generation ${xmn} must be smaller than the maximum heap ${xmx}`, "make xmn a fraction of xmx, e.g. a quarter");
  if (spec.proxy.nextUpstream.includes("off") && spec.proxy.nextUpstream.length > 1) add("nacos.proxy.nextUpstream", "`off` cannot be combined with other conditions", "use [off] alone, or drop it");
  return issues;
}
