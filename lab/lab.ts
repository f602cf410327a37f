/**
 * A running lab: the topology, validated and resolved; its nodes, started with real daemons; the
 * observers writing VIP ownership and VRRP states into the run's history; and the nemesis that
 * breaks things. `startLab` is all-or-nothing and checks everything it can before any container
 * starts. A Lab is disposable: `await using lab = await startLab(...)`.
 */
import { EnvironmentError, LabError, TopologyError, type TopologyIssue, WaitTimeoutError } from "./errors.ts";
import { type Clock, EngineClock, MonotonicClock } from "./history/clock.ts";
import { History } from "./history/history.ts";
import type { NewOp } from "./history/ops.ts";
import { Nemesis } from "./nemesis/nemesis.ts";
import type { NodeFiles } from "./nodes/kind.ts";
import { nodeKind } from "./nodes/registry.ts";
import { type Reporter, silentReporter } from "./report/reporter.ts";
import { type ConfigProblem, runConfigChecks } from "./runtime/config-check.ts";
import { checkConfigsCached } from "./runtime/config-check-cache.ts";
import { removeResources } from "./runtime/cleanup.ts";
import { beginRun, deploy, type Deployment, type NodeFile, type NodeSpec } from "./runtime/deployment.ts";
import { connectEngine, type Engine } from "./runtime/engine.ts";
import { type EngineNeed, engineProvider } from "./runtime/engines.ts";
import { paceOf } from "./runtime/pace.ts";
import { ImageBuilder } from "./runtime/images.ts";
import type { LabNode } from "./runtime/node-container.ts";
import { loadByoConfigs } from "./topology/byo.ts";
import { loadTopologyFile } from "./topology/load.ts";
import { renderKeepalived } from "./topology/render-keepalived.ts";
import { realServerSetup } from "./topology/render-lvs.ts";
import { renderMariadb, renderNacosMember } from "./topology/render-nacos.ts";
import { renderNginx } from "./topology/render-nginx.ts";
import { type ResolvedInstance, type ResolvedNode, resolveTopology, type ResolvedTopology } from "./topology/resolve.ts";
import type { Topology, TopologyInput } from "./topology/schema.ts";
import { validateTopology } from "./topology/validate.ts";
import { NacosMemberViews } from "./workload/nacos-member-views.ts";
import { NacosWorkload, type NacosWorkloadOptions } from "./workload/nacos-workload.ts";
import { RequestStream, type RequestStreamOptions } from "./workload/request-stream.ts";
import { ClientArpObserver, GarpObserver } from "./workload/arp-observer.ts";
import { VipObserver } from "./workload/vip-observer.ts";
import { VrrpObserver } from "./workload/vrrp-observer.ts";
import { ClockSync } from "./workload/clock-sync.ts";
import { IpvsObserver } from "./workload/ipvs-observer.ts";
import { type ClientStream, NodeRequestStream } from "./workload/node-request-stream.ts";

/** A topology object, or `{ file }` for a `*.lab.yml`. */
export type TopologySource = TopologyInput | { file: string };

export interface StartLabOptions {
  reporter?: Reporter;
  /** Leave the lab up when this process ends (`up`, `run --keep`). */
  keep?: boolean;
  /** Override the topology's lab name (e.g. to run two copies at once). */
  name?: string;
  /**
   * The engine to run on. Default: the process's engine, or — for a topology that needs IPVS (LVS
   * directors) — the one runtime/engines.ts picks (an IPVS-capable engine, else the qemu guest).
   */
  engine?: Engine;
}

/** What a topology needs of its engine's kernel beyond containers: IPVS for LVS directors. */
export function topologyNeeds(topology: Pick<Topology, "director" | "lvs"> | TopologyInput): EngineNeed[] {
  return Object.keys(topology.director ?? {}).length > 0 || topology.lvs ? ["ipvs"] : [];
}

/** Validate, resolve and render a topology without starting anything (`render`, tests). */
export async function prepareTopology(source: TopologySource, subnetForRender?: string): Promise<{ topology: Topology; resolved: ResolvedTopology; files: Map<string, NodeFile[]>; dir: string | undefined }> {
  const { topology, dir } = await readTopology(source);
  const engineSubnet = subnetForRender ?? topology.network.subnet;
  const { parseCidr } = await import("./ipv4.ts");
  const subnet = parseCidr(engineSubnet ?? "10.213.0.0/24")!;
  const resolved = resolveTopology(topology, subnet);
  const byo = await loadByoConfigs(resolved, dir);
  return { topology, resolved: byo.resolved, files: renderFiles(byo.resolved, byo.files), dir };
}

async function readTopology(source: TopologySource): Promise<{ topology: Topology; dir: string | undefined }> {
  if (typeof source === "object" && source !== null && "file" in source && typeof source.file === "string") {
    const loaded = await loadTopologyFile(source.file);
    return { topology: loaded.topology, dir: loaded.dir };
  }
  return { topology: validateTopology(source), dir: process.cwd() };
}

/** Files of every node: rendered, or brought by the user (already placed in `byoFiles`). */
function renderFiles(t: ResolvedTopology, byoFiles: Map<string, NodeFile[]>): Map<string, NodeFile[]> {
  const files = new Map<string, NodeFile[]>();
  for (const lb of t.lbs) {
    const own = byoFiles.get(lb.name) ?? [];
    const ownPaths = new Set(own.map((f) => f.path));
    const rendered = [...(t.byo.keepalived ? [] : renderKeepalived(t, lb.name)), ...(t.byo.nginx ? [] : [renderNginx(t, lb.name)])];
    files.set(lb.name, [...own, ...rendered.filter((f) => !ownPaths.has(f.path))]);
  }
  for (const d of t.directors) files.set(d.name, renderKeepalived(t, d.name));
  // LVS real servers: the boot hook their mode needs (the VIP on lo for DR, routes for NAT).
  for (const rs of t.lvs?.realServers ?? []) files.set(rs.node, [...(files.get(rs.node) ?? []), ...realServerSetup(t, rs.node).files]);
  if (t.nacos) {
    for (const member of t.nacos.members) files.set(member.name, renderNacosMember(t, member.name));
    if (t.nacos.database) files.set(t.nacos.database.name, renderMariadb(t));
  }
  return files;
}

export async function startLab(source: TopologySource, options: StartLabOptions = {}): Promise<Lab> {
  const reporter = options.reporter ?? silentReporter;
  const { topology: declared, dir } = await readTopology(source);
  const topology = options.name ? { ...declared, name: options.name } : declared;
  // The user's own files (paths inside the topology's folder, placeholders) are checked before
  // anything is reserved on the engine: a bad one starts nothing, not even the network. Labs get a
  // /24 (or the declared subnet), so rendering for a provisional one finds the same problems.
  const { parseCidr } = await import("./ipv4.ts");
  await loadByoConfigs(resolveTopology(topology, parseCidr(topology.network.subnet ?? "10.213.0.0/24")!), dir);
  const needs = topologyNeeds(topology);
  if (needs.length > 0 && options.keep && !options.engine && (await engineProvider().plan(needs, reporter)).kind === "guest") {
    throw new EnvironmentError(`Lab ${topology.name} needs IPVS, which only the qemu guest engine has here, and the guest ends with this process: it cannot be left up`, {
      remedy: "Run it as a scenario (`failover-lab run …`), or point FAILOVER_LAB_IPVS_ENGINE (or DOCKER_HOST) at an engine whose kernel has IPVS.",
    });
  }
  const engine = options.engine ?? (needs.length > 0 ? await engineProvider().engineFor(needs, reporter) : await connectEngine());
  const pace = paceOf(engine);
  // Reserving the network first fixes the subnet; everything is rendered for the one we got.
  const { run, network } = await beginRun(engine, topology.name, { keep: options.keep ?? false, reporter, ...(topology.network.subnet ? { subnet: topology.network.subnet } : {}) });
  try {
    const byo = await loadByoConfigs(resolveTopology(topology, network.subnet), dir);
    const resolved = byo.resolved;
    const files: NodeFiles = renderFiles(resolved, byo.files);
    const specs: NodeSpec[] = resolved.nodes.map((n) => nodeKind(n.kind).spec(resolved, n, files));

    const images = new ImageBuilder(engine.docker, reporter);
    const tags = new Map<string, string>();
    for (const image of new Set(specs.map((s) => s.image))) tags.set(image, await images.ensure(image));

    // A slow engine's images are the host's (runtime/guest/images.ts): the daemons check the same
    // files in the same images there, in a fraction of the time.
    const checkEngine = pace.timeScale > 1 ? await connectEngine() : engine;
    reporter.step(`Checking the configuration with the daemons themselves (keepalived --config-test, nginx -t)`);
    const { problems } = await checkConfigsCached(
      resolved.nodes.map((n) => ({
        node: n.name,
        image: tags.get(specs.find((s) => s.name === n.name)!.image)!,
        files: files.get(n.name) ?? [],
        checks: nodeKind(n.kind).configChecks(),
      })),
      (jobs) => runConfigChecks(topology.name, jobs, checkEngine),
    );
    for (const w of problems.filter((p) => p.severity === "warning")) reporter.warn(`${w.node}: ${describeProblem(w, byo.sources)}`);
    const errors = problems.filter((p) => p.severity === "error");
    if (errors.length > 0) throw new TopologyError(errors.map((p) => problemToIssue(p, byo.sources)));
    for (const w of byo.warnings) reporter.warn(w);

    // Nodes on another kernel stamp with its realtime clock: the lab measures the offset (below).
    const clock = pace.sharedClock ? new MonotonicClock() : new EngineClock();
    const history = new History(clock);
    const deployment = await deploy(
      { lab: topology.name, run: run.run, subnet: resolved.subnetText, nodes: specs, keep: run.keep },
      // With MySQL storage a member's boot waits for MariaDB (topology/render-nacos.ts) before Nacos runs.
      { engine, images, reporter, network, ...(resolved.nacos?.database ? { bootTimeoutMs: 150_000 } : {}) },
    );
    const lab = new Lab(resolved, deployment, history, files, reporter);
    try {
      if (clock instanceof EngineClock) await lab.syncClock(clock);
      await lab.observeAll();
    } catch (err) {
      await lab.stop();
      throw err;
    }
    return lab;
  } catch (err) {
    await removeResources(engine.docker, { kind: "run", run: run.run }).catch(() => undefined);
    throw err;
  }
}

function describeProblem(p: ConfigProblem, sources: ReadonlyMap<string, string>): string {
  const where = p.path ? `${sources.get(`${p.node}:${p.path}`) ?? `${p.path} (rendered for ${p.node}; print it with \`failover-lab render\`)`}${p.line ? `:${p.line}` : ""}` : p.node;
  return `${where}: ${p.message} [${p.check}]`;
}

function problemToIssue(p: ConfigProblem, sources: ReadonlyMap<string, string>): TopologyIssue {
  const source = p.path ? sources.get(`${p.node}:${p.path}`) : undefined;
  return {
    path: source ? `${p.check} on ${p.node}` : `rendered ${p.path ?? "configuration"} of ${p.node}`,
    message: p.message,
    ...(source ? { file: source } : {}),
    ...(p.line !== undefined ? { line: p.line } : {}),
    fix: source
      ? `${p.check.split(" ")[0]} rejects this line of your file (see \`man ${p.check.startsWith("nginx") ? "nginx" : "keepalived.conf"}\`)`
      : "the daemon rejects a file failover-lab rendered from these fields; `failover-lab render` prints it",
  };
}

export class Lab implements AsyncDisposable {
  readonly topology: ResolvedTopology;
  readonly deployment: Deployment;
  readonly history: History;
  readonly clock: Clock;
  readonly vips: VipObserver;
  readonly vrrp: VrrpObserver;
  /** The client's ARP entry for each VIP (host side of the lab bridge). */
  readonly clientArp: ClientArpObserver;
  /** Gratuitous ARPs on the wire (only with a client node). */
  readonly garps: GarpObserver;
  /** Each director's IPVS table over time. */
  readonly ipvs: IpvsObserver;
  private clockSync: ClockSync | undefined;
  private readonly macs = new Map<string, string>();
  readonly nemesis: Nemesis;
  readonly reporter: Reporter;
  private readonly files: NodeFiles;
  private readonly streams: ClientStream[] = [];
  private readonly nacosWorkloads: NacosWorkload[] = [];
  private nacosViews: NacosMemberViews | undefined;
  /** Nodes that joined during the run and are not in the topology (a rogue router). */
  private readonly intruders = new Map<string, { node: ResolvedNode; instances: string[] }>();
  private stopped: Promise<void> | undefined;

  constructor(topology: ResolvedTopology, deployment: Deployment, history: History, files: NodeFiles, reporter: Reporter) {
    this.topology = topology;
    this.deployment = deployment;
    this.history = history;
    this.clock = history.clock;
    this.files = files;
    this.reporter = reporter;
    this.vips = new VipObserver(history, topology.vrrp.instances.flatMap((i) => i.vips));
    this.vrrp = new VrrpObserver(history, (node) => this.intruders.get(node)?.instances ?? topology.vrrp.instances.filter((i) => i.members.some((m) => m.node === node)).map((i) => i.name));
    this.nemesis = new Nemesis(this);
    const vipList = topology.vrrp.instances.flatMap((i) => i.vips);
    this.clientArp = new ClientArpObserver(history, vipList, (mac) => this.nodeByMac(mac));
    this.garps = new GarpObserver(history, vipList, (mac) => this.nodeByMac(mac));
    this.ipvs = new IpvsObserver(history);
  }

  /**
   * Measure the offset between this process's clock and the engine kernel's (a guest's), from the
   * client node when there is one, and keep following it while the lab runs (workload/clock-sync.ts).
   */
  async syncClock(clock: EngineClock): Promise<void> {
    const node = this.topology.client ? this.node(this.topology.client.name) : [...this.deployment.nodes.values()][0];
    if (!node) return;
    this.clockSync = new ClockSync(clock);
    await this.clockSync.start(node);
    const s = this.clockSync.state();
    this.reporter.detail(`engine clock offset ${(s.offsetUs / 1000).toFixed(1)} ms (this process − the engine's kernel), from ${s.samples} samples of ${node.name}`);
  }

  /** The lab node whose interface has this MAC, or null. */
  async nodeByMac(mac: string): Promise<string | null> {
    if (!this.macs.has(mac)) {
      for (const [name, node] of this.deployment.nodes) {
        const info = await this.deployment.engine.docker.getContainer(node.containerId).inspect().catch(() => undefined);
        const m = info?.NetworkSettings.Networks?.[this.deployment.network.name]?.MacAddress;
        if (m) this.macs.set(m.toLowerCase(), name);
      }
    }
    return this.macs.get(mac) ?? null;
  }

  get name(): string {
    return this.topology.name;
  }

  node(name: string): LabNode {
    return this.deployment.node(name);
  }

  /** The files rendered (or brought) for a node. */
  filesOf(node: string): NodeFile[] {
    return this.files.get(node) ?? [];
  }

  instance(name?: string): ResolvedInstance {
    const all = this.topology.vrrp.instances;
    const inst = name ? all.find((i) => i.name === name) : all[0];
    if (!inst) throw new LabError(`Lab ${this.name} has no VRRP instance ${name ?? ""}. Instances: ${all.map((i) => i.name).join(", ") || "(none)"}`);
    return inst;
  }

  /** Watch every load balancer (VIPs and VRRP state), the client's ARP view, and GARPs from the client node. */
  async observeAll(): Promise<void> {
    await Promise.all([...this.topology.lbs, ...this.topology.directors].map((n) => this.observe(n.name)));
    const { docker, endpoint } = this.deployment.engine;
    const info = await docker.getNetwork(this.deployment.network.id).inspect();
    const bridge = (info.Options as Record<string, string> | undefined)?.["com.docker.network.bridge.name"] ?? `br-${this.deployment.network.id.slice(0, 12)}`;
    await this.clientArp.start(bridge, endpoint.startsWith("unix://") && paceOf(this.deployment.engine).reachesLabNetwork);
    if (this.topology.client) await this.garps.start(this.node(this.topology.client.name));
  }

  /** (Re)attach the observers to one load balancer or director (a director's IPVS table too). */
  async observe(nodeName: string): Promise<void> {
    const director = this.topology.directors.some((n) => n.name === nodeName);
    if (!director && !this.topology.lbs.some((n) => n.name === nodeName)) return;
    const node = this.node(nodeName);
    await Promise.all([this.vips.attach(node), this.vrrp.attach(node), ...(director ? [this.ipvs.attach(node)] : [])]);
  }

  /** A node that joined during the run without being in the topology, if `name` is one. */
  intruderNode(name: string): ResolvedNode | undefined {
    return this.intruders.get(name)?.node;
  }

  /** Every node's name and address, intruders included. */
  addresses(): Map<string, string> {
    return new Map([...this.topology.nodes, ...[...this.intruders.values()].map((i) => i.node)].map((n) => [n.name, n.address]));
  }

  /**
   * Start a node the topology does not declare (a misconfigured router joining the network) and
   * watch its VIPs and VRRP states like the others'.
   */
  async addIntruder(spec: NodeSpec, instances: string[]): Promise<LabNode> {
    const node = await this.deployment.addNode(spec);
    this.intruders.set(spec.name, { node: { name: spec.name, kind: "lb", address: spec.address }, instances });
    await Promise.all([this.vips.attach(node), this.vrrp.attach(node)]);
    return node;
  }

  /** Remove an intruder; its VIPs go with it. */
  async removeIntruder(name: string): Promise<void> {
    if (!this.intruders.has(name)) throw new LabError(`${name} is not a node that joined during the run`);
    await this.deployment.removeNode(name);
    this.vips.nodeDown(name, this.clock.nowMs());
    this.vrrp.detach(name, { powerLost: true });
    this.intruders.delete(name);
  }

  /** Let the observers take in what their streams from busy nodes have not delivered yet (a run's end, before its checks). */
  async catchUpObservers(): Promise<void> {
    await Promise.all([this.vrrp.catchUp(), this.vips.catchUp(), this.garps.catchUp()]);
  }

  /** A scenario's own marker in the history. */
  note(label: string): void {
    this.history.append({ process: "scenario", f: "note", label, atMs: this.clock.nowMs() });
  }

  /**
   * A request stream against a VIP of this lab (default: the first instance's first VIP), on the
   * service's port (the virtual service's for an LVS VIP, else nginx's). It runs in this process
   * when the lab network is reachable from here, else in the client node (workload/node-request-stream.ts),
   * which is also where `sources` (several client addresses in turn) come from.
   */
  requestStream(options: Partial<RequestStreamOptions> & { vip?: string; sources?: string[] } = {}): ClientStream {
    const vip = options.vip ?? this.instance().vips[0]!;
    if (!this.topology.vrrp.instances.some((i) => i.vips.includes(vip))) {
      throw new LabError(`${vip} is not a VIP of lab ${this.name}; requests only ever go to the lab's own addresses`);
    }
    const port = this.topology.lvs?.vip === vip ? this.topology.lvs.port : this.topology.nginx.listen;
    const lbByAddress = new Map(this.topology.lbs.map((n) => [n.address, n.name]));
    const inNode = !paceOf(this.deployment.engine).reachesLabNetwork || (options.sources?.length ?? 0) > 0;
    let stream: ClientStream;
    if (inNode) {
      const client = this.topology.client;
      if (!client) {
        throw new LabError(`Lab ${this.name}'s network cannot be reached from this process (engine ${this.deployment.engine.endpoint}), and it has no client node to send requests from`, {
          remedy: "add `client: true` to the topology",
        });
      }
      for (const s of options.sources ?? []) {
        if (s !== client.address && !this.topology.clientSources.includes(s)) {
          throw new LabError(`${s} is not an address the client node may send from; use ${[client.address, ...this.topology.clientSources].join(", ")}`);
        }
      }
      stream = new NodeRequestStream(this.history, {
        node: this.node(client.name),
        host: vip,
        port,
        lbByAddress,
        prefix: this.topology.prefix,
        ...(options.name ? { name: options.name } : {}),
        ...(options.ratePerSecond ? { ratePerSecond: options.ratePerSecond } : {}),
        ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
        ...(options.sources ? { sources: options.sources } : {}),
      });
    } else {
      const { sources: _sources, ...rest } = options;
      stream = new RequestStream(this.history, { url: `http://${vip}:${port}/`, lbByAddress, ...rest });
    }
    this.streams.push(stream);
    return stream;
  }

  /**
   * A Nacos workload against the lab's Nacos cluster through a VIP (default: the first instance's
   * first VIP): it calls the VIP and nothing else. Start it with `start()`; the lab stops it when it stops.
   */
  nacosWorkload(options: Partial<Omit<NacosWorkloadOptions, "httpPort" | "grpcPort" | "memberByAddress">> = {}): NacosWorkload {
    const nacos = this.topology.nacos;
    if (!nacos) throw new LabError(`Lab ${this.name} has no Nacos cluster`, { remedy: "add `nacos: { members: 3 }` to its topology" });
    const vip = options.vip ?? this.instance().vips[0]!;
    if (!this.topology.vrrp.instances.some((i) => i.vips.includes(vip))) {
      throw new LabError(`${vip} is not a VIP of lab ${this.name}; Nacos calls only ever go to the lab's own VIP`);
    }
    const workload = new NacosWorkload(this.history, {
      ...options,
      vip,
      httpPort: nacos.httpPort,
      grpcPort: nacos.grpcPort,
      memberByAddress: new Map(nacos.members.map((m) => [`${m.address}:${nacos.httpPort}`, m.name])),
    });
    this.nacosWorkloads.push(workload);
    return workload;
  }

  /**
   * Record every Nacos member's own view of the cluster about once a second (`nacos-view` ops, asked
   * inside each member), until the lab stops or `stop()`. Started once; later calls return the same.
   */
  watchNacosMembers(): NacosMemberViews {
    const nacos = this.topology.nacos;
    if (!nacos) throw new LabError(`Lab ${this.name} has no Nacos cluster`, { remedy: "add `nacos: { members: 3 }` to its topology" });
    if (!this.nacosViews) {
      this.nacosViews = new NacosMemberViews(this.history, {
        members: nacos.members.map((m) => ({ name: m.name, node: this.node(m.name) })),
        httpPort: nacos.httpPort,
        memberByAddress: new Map(nacos.members.map((m) => [`${m.address}:${nacos.httpPort}`, m.name])),
      });
      this.nacosViews.start();
    }
    return this.nacosViews;
  }

  /**
   * Wait until `predicate` holds; it is re-evaluated on every op and every 100 ms. Times out with
   * an error naming `what`. On a slow (paced) engine the timeout is scaled like every other wait
   * there (runtime/pace.ts): it bounds how long to wait, never what a check accepts.
   */
  async waitFor(what: string, predicate: () => boolean, timeoutMs: number): Promise<number> {
    timeoutMs *= paceOf(this.deployment.engine).timeScale;
    const started = this.clock.nowMs();
    if (predicate()) return this.clock.nowMs();
    return new Promise<number>((resolve, reject) => {
      const check = () => {
        if (predicate()) {
          done();
          resolve(this.clock.nowMs());
        } else if (this.clock.nowMs() - started > timeoutMs) {
          done();
          reject(new WaitTimeoutError(`${what} (lab ${this.name})`, timeoutMs));
        }
      };
      const unsubscribe = this.history.subscribe((_op: NewOp) => check());
      const timer = setInterval(check, 100);
      const done = () => {
        unsubscribe();
        clearInterval(timer);
      };
    });
  }

  /** Wait until exactly `node` holds `vip`. */
  waitForVip(vip: string, node: string, timeoutMs: number): Promise<number> {
    return this.waitFor(`VIP ${vip} held by ${node} alone`, () => {
      const owners = this.vips.owners(vip);
      return owners.length === 1 && owners[0] === node;
    }, timeoutMs);
  }

  /** The node holding `vip` alone right now, or undefined. */
  currentOwner(vip: string): string | undefined {
    const owners = this.vips.owners(vip);
    return owners.length === 1 ? owners[0] : undefined;
  }

  /** The node the VRRP rules elect first: highest priority, ties to the highest address (RFC 5798 §6.4.3). */
  expectedMaster(instance: ResolvedInstance): string {
    const addr = (n: string) => this.topology.nodes.find((l) => l.name === n)!.address.split(".").map(Number).reduce((a, b) => a * 256 + b, 0);
    return [...instance.members].sort((a, b) => b.priority - a.priority || addr(b.node) - addr(a.node))[0]!.node;
  }

  /**
   * Every instance's VIPs held by its expected master alone (with nopreempt: by any one member, as
   * whoever wins the start-up race keeps it), every member's keepalived MASTER or BACKUP.
   */
  async waitForSteadyState(timeoutMs = 20_000): Promise<void> {
    // Nodes that serve more than running daemons show (a Nacos member seeing every member UP, a
    // database answering) first: they take longest, and the VRRP state is event-driven anyway.
    // The members of one kind are waited for together, kinds in the topology's order (a database
    // before the Nacos members that use it): a member's wait may have to start it again (a Nacos JVM
    // that gave up while the cluster formed), and its peers must be looked after meanwhile, not
    // after it — with embedded storage a restarted member serves nothing until a majority elects a
    // raft leader, which its peers, given up too and waiting their turn, could not.
    const kinds = [...new Set(this.topology.nodes.map((n) => n.kind))];
    for (const kindName of kinds) {
      const kind = nodeKind(kindName);
      if (!kind.ready) continue;
      const nodes = this.topology.nodes.filter((n) => n.kind === kindName);
      const kindTimeout = Math.max(timeoutMs, kind.readyTimeoutMs ?? 0);
      this.reporter.step(`Waiting for ${nodes.map((n) => n.name).join(", ")} (${kindName}) to serve, at most ${(kindTimeout / 1000).toFixed(0)} s`);
      const warn = (text: string) => {
        this.reporter.warn(text);
        this.note(text);
      };
      const waits = await Promise.allSettled(nodes.map((n) => kind.ready!({ topology: this.topology, node: this.node(n.name), timeoutMs: kindTimeout, clock: this.clock, warn })));
      const failed = waits.find((w): w is PromiseRejectedResult => w.status === "rejected");
      if (failed) throw failed.reason;
    }
    for (const inst of this.topology.vrrp.instances) {
      const members = inst.members.map((m) => m.node);
      for (const vip of inst.vips) {
        if (inst.nopreempt) {
          await this.waitFor(`VIP ${vip} held by exactly one member of ${inst.name}`, () => {
            const owners = this.vips.owners(vip);
            return owners.length === 1 && members.includes(owners[0]!);
          }, timeoutMs);
        } else await this.waitForVip(vip, this.expectedMaster(inst), timeoutMs);
      }
      await this.waitFor(`every member of ${inst.name} in MASTER or BACKUP state`, () => inst.members.every((m) => ["MASTER", "BACKUP"].includes(this.vrrp.state(m.node, inst.name))), timeoutMs);
    }
  }

  /** Stop request streams and observers, then remove every container and the network. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      await this.detach();
      await this.deployment.destroy();
    })();
    return this.stopped;
  }

  /** Stop request streams and observers but leave the containers up (`up`, `run --keep`). */
  async detach(): Promise<void> {
    await Promise.allSettled([...this.streams.map((s) => s.stop()), ...this.nacosWorkloads.map((w) => w.close()), ...(this.nacosViews ? [this.nacosViews.stop()] : [])]);
    this.vips.close();
    this.vrrp.close();
    this.ipvs.close();
    this.clockSync?.stop();
    this.clientArp.stop();
    this.garps.stop();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
