/**
 * A deployment is one run of a lab on the engine: its network and its node containers, all
 * labelled with the lab name, run id and owner. Deploying is all-or-nothing: if any node fails to
 * start or boot, everything created so far is removed before the error is rethrown.
 */
import { randomUUID } from "node:crypto";
import pRetry, { AbortError } from "p-retry";
import { EnvironmentError, LabError } from "../errors.ts";
import { type Cidr, formatCidr, parseCidr } from "../ipv4.ts";
import { type Reporter, silentReporter } from "../report/reporter.ts";
import { type Removed, reapOrphans, removeResources } from "./cleanup.ts";
import { connectEngine, type Engine } from "./engine.ts";
import { ImageBuilder, type ImageName } from "./images.ts";
import { LABEL, labelsFor, ownerState, type RunLabels } from "./labels.ts";
import { type LabNetwork, pickFreeSubnet, reserveLabNetwork, takenSubnets } from "./network.ts";
import { LabNode, NODE_CAPABILITIES, NodeContainer } from "./node-container.ts";
import { paceOf } from "./pace.ts";

export interface NodeFile {
  path: string;
  content: string;
  mode?: number;
}

export interface NodeSpec {
  name: string;
  /** What the node is for (lb, web, client, …); a label, also used by `down` output. */
  role: string;
  image: ImageName;
  /** Fixed IPv4 address on the lab network. */
  address: string;
  files?: NodeFile[];
  /** Daemons the node starts at every boot, in order (e.g. ["nginx", "keepalived"]). */
  boot?: string[];
  sysctls?: Record<string, string>;
}

export interface DeploymentSpec {
  /** Lab name: container names are `<lab>-<node>`. */
  lab: string;
  /** Run id, when the caller created the run's network already (see `beginRun`). */
  run?: string;
  /** CIDR of the lab network; a free /24 is chosen when absent. */
  subnet?: string;
  nodes: NodeSpec[];
  /** Leave the lab up after this process exits (`up`, `run --keep`): it is then never reaped automatically. */
  keep?: boolean;
}

export interface DeployOptions {
  reporter?: Reporter;
  engine?: Engine;
  images?: ImageBuilder;
  /** The run's network, reserved beforehand (see `beginRun`); created here when absent. */
  network?: LabNetwork;
  /** How long a node may take to boot its daemons. Default 30 s, scaled by the engine's pace. */
  bootTimeoutMs?: number;
}

const live = new Set<Deployment>();

/** Deployments of this process not yet destroyed (for signal handlers). */
export function liveDeployments(): Deployment[] {
  return [...live];
}

export class Deployment implements AsyncDisposable {
  readonly lab: string;
  readonly run: string;
  readonly network: LabNetwork;
  readonly engine: Engine;
  private readonly runLabels: RunLabels;
  private readonly nodeMap: Map<string, LabNode>;
  private destroyed: Promise<Removed> | undefined;
  private readonly lastWords = new Set<() => Promise<void>>();

  constructor(engine: Engine, run: RunLabels, network: LabNetwork, nodes: Map<string, LabNode>) {
    this.engine = engine;
    this.lab = run.lab;
    this.run = run.run;
    this.runLabels = run;
    this.network = network;
    this.nodeMap = nodes;
    live.add(this);
  }

  get nodes(): ReadonlyMap<string, LabNode> {
    return this.nodeMap;
  }

  /** Start one more node in this run (e.g. a rogue router joining the network), labelled like the rest. */
  async addNode(spec: NodeSpec, options: { images?: ImageBuilder; bootTimeoutMs?: number } = {}): Promise<LabNode> {
    if (this.nodeMap.has(spec.name)) throw new LabError(`Lab ${this.lab} already has a node "${spec.name}"`);
    const image = await (options.images ?? new ImageBuilder(this.engine.docker, silentReporter)).ensure(spec.image);
    const node = await startNode(this.engine, this.runLabels, this.network, spec, image);
    try {
      await waitForBoot(node, spec.boot ?? [], (options.bootTimeoutMs ?? 30_000) * node.pace.timeScale);
    } catch (err) {
      await node.remove().catch(() => undefined);
      throw err;
    }
    this.nodeMap.set(spec.name, node);
    return node;
  }

  /** Remove a node added with addNode (its container is gone afterwards). */
  async removeNode(name: string): Promise<void> {
    const node = this.node(name);
    await node.remove();
    this.nodeMap.delete(name);
  }

  node(name: string): LabNode {
    const node = this.nodes.get(name);
    if (!node) {
      throw new LabError(`Lab ${this.lab} has no node "${name}". Its nodes are: ${[...this.nodes.keys()].join(", ")}`);
    }
    return node;
  }

  /**
   * Work that must happen while the containers still exist, before whoever removes them does —
   * the run's own end, or a signal handler (e.g. copying the logs out). Each runs at most once;
   * the returned function withdraws it (when the work was done another way).
   */
  beforeDestroy(fn: () => Promise<void>): () => void {
    this.lastWords.add(fn);
    return () => this.lastWords.delete(fn);
  }

  /** Remove every container and the network of this run. Safe to call more than once. */
  destroy(): Promise<Removed> {
    this.destroyed ??= (async () => {
      const last = [...this.lastWords];
      this.lastWords.clear();
      await Promise.allSettled(last.map((fn) => fn()));
      return removeResources(this.engine.docker, { kind: "run", run: this.run });
    })().finally(() => live.delete(this));
    return this.destroyed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.destroy();
  }
}

const NAME = /^[a-z][a-z0-9-]{0,30}$/;

export async function deploy(spec: DeploymentSpec, options: DeployOptions = {}): Promise<Deployment> {
  const reporter = options.reporter ?? silentReporter;
  if (!NAME.test(spec.lab)) {
    throw new LabError(`Lab name "${spec.lab}" is not usable: use 1–31 lowercase letters, digits and dashes, starting with a letter`);
  }
  const engine = options.engine ?? (await connectEngine());
  const docker = engine.docker;
  if (!options.network) await claimLabName(engine, spec.lab, reporter);

  const images = options.images ?? new ImageBuilder(docker, reporter);
  const tags = new Map<ImageName, string>();
  for (const image of new Set(spec.nodes.map((n) => n.image))) tags.set(image, await images.ensure(image));

  const run: RunLabels = { lab: spec.lab, run: spec.run ?? randomUUID().slice(0, 8), keep: spec.keep ?? false };
  try {
    const network = options.network ?? (await reserveLabNetwork(docker, labNetworkName(spec.lab), labelsFor(run), spec.subnet ? parseSubnet(spec.subnet) : undefined));
    reporter.step(`Starting lab ${spec.lab} (run ${run.run}) on ${formatCidr(network.subnet)}: ${spec.nodes.map((n) => n.name).join(", ")}`);
    const nodes = new Map<string, LabNode>();
    // On a slow (paced) engine start-up takes a minute or more: say what is done as it happens.
    const slow = paceOf(engine).timeScale > 1;
    const started = performance.now();
    const progress = (what: string) => {
      if (slow) reporter.info(`  ${what} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    };
    await Promise.all(
      spec.nodes.map(async (nodeSpec) => {
        const node = await startNode(engine, run, network, nodeSpec, tags.get(nodeSpec.image)!);
        nodes.set(nodeSpec.name, node);
        progress(`container ${nodeSpec.name} started, ${nodes.size} of ${spec.nodes.length}`);
      }),
    );
    // Every node is polled at once; on a paced engine (a TCG guest) the execs queue for its few
    // slots (pace.ts) instead of piling up until its dockerd stops answering.
    const bootTimeoutMs = (options.bootTimeoutMs ?? 30_000) * paceOf(engine).timeScale;
    await Promise.all(
      spec.nodes.map(async (n) => {
        await waitForBoot(nodes.get(n.name)!, n.boot ?? [], bootTimeoutMs);
        if ((n.boot ?? []).length > 0) progress(`${n.name}: ${n.boot!.join(" and ")} running`);
      }),
    );
    const ordered = new Map(spec.nodes.map((n) => [n.name, nodes.get(n.name)!] as const));
    return new Deployment(engine, run, network, ordered);
  } catch (err) {
    await removeResources(docker, { kind: "run", run: run.run }).catch(() => undefined);
    throw err;
  }
}

async function startNode(engine: Engine, run: RunLabels, network: LabNetwork, spec: NodeSpec, image: string): Promise<LabNode> {
  const files = [...(spec.files ?? [])];
  files.push({ path: "/etc/lab/boot", content: (spec.boot ?? []).map((d) => `${d}\n`).join("") });
  const container = new NodeContainer(image)
    .withName(`${run.lab}-${spec.name}`)
    .withHostname(spec.name)
    .withFixedAddress(network.name, spec.address)
    .withAddedCapabilities(...NODE_CAPABILITIES)
    .withLabels(labelsFor(run, { name: spec.name, role: spec.role }))
    .withCopyContentToContainer(files.map((f) => ({ content: f.content, target: f.path, mode: f.mode ?? 0o644 })))
    .withStartupTimeout(30_000 * paceOf(engine).timeScale);
  if (spec.sysctls) container.withSysctls(spec.sysctls);
  try {
    const id = await container.start(engine.docker);
    return new LabNode(id, engine.docker, { name: spec.name, role: spec.role, address: spec.address }, paceOf(engine));
  } catch (err) {
    const message = (err as Error).message ?? String(err);
    if (/caps|capabilit|operation not permitted/i.test(message)) {
      throw new EnvironmentError(`The engine refused to start node ${spec.name} with ${NODE_CAPABILITIES.join(" and ")}: ${message}`, {
        remedy: "The lab needs an engine that grants NET_ADMIN and NET_RAW to containers (rootful Docker does; check `failover-lab doctor`).",
        cause: err,
      });
    }
    throw new LabError(`Could not start node ${spec.name}: ${message}`, { cause: err });
  }
}

async function waitForBoot(node: LabNode, daemons: string[], timeoutMs: number): Promise<void> {
  if (daemons.length === 0) return;
  const started = performance.now();
  await pRetry(
    async () => {
      for (const daemon of daemons) {
        const r = await node.exec(["labctl", "status", daemon], { check: false, timeoutMs: 5_000 });
        if (r.exitCode !== 0) {
          if (performance.now() - started > timeoutMs) {
            const bootLog = await node.readFile("/var/log/lab/boot.log").catch(() => "");
            throw new AbortError(
              new LabError(`Node ${node.name} booted but ${daemon} is not running after ${timeoutMs} ms.\nBoot log:\n${bootLog}`, {
                remedy: `Look at the ${daemon} configuration rendered for ${node.name} (\`failover-lab render\`).`,
              }),
            );
          }
          throw new Error(`${daemon} not running yet`);
        }
      }
    },
    { retries: 1000, minTimeout: 100, maxTimeout: 250, factor: 1.3 },
  );
}

export function labNetworkName(lab: string): string {
  return `failover-lab-${lab}`;
}

function parseSubnet(text: string): Cidr {
  const cidr = parseCidr(text);
  if (!cidr) throw new LabError(`network.subnet "${text}" is not a CIDR like 10.213.7.0/24`);
  return cidr;
}

/**
 * Start a run: reap leftovers of dead runs, make sure no other lab of this name is up, and reserve
 * the run's network (and with it the subnet). Whoever calls it owns the network until `deploy`
 * takes it, and must remove it if it gives up before (`removeResources(..., {kind: "run"})`).
 */
export async function beginRun(
  engine: Engine,
  lab: string,
  options: { keep?: boolean; subnet?: string; reporter?: Reporter } = {},
): Promise<{ run: RunLabels; network: LabNetwork }> {
  if (!NAME.test(lab)) {
    throw new LabError(`Lab name "${lab}" is not usable: use 1–31 lowercase letters, digits and dashes, starting with a letter`);
  }
  await claimLabName(engine, lab, options.reporter ?? silentReporter);
  const run: RunLabels = { lab, run: randomUUID().slice(0, 8), keep: options.keep ?? false };
  const network = await reserveLabNetwork(engine.docker, labNetworkName(lab), labelsFor(run), options.subnet ? parseSubnet(options.subnet) : undefined);
  return { run, network };
}

async function claimLabName(engine: Engine, lab: string, reporter: Reporter): Promise<void> {
  for (const reaped of await reapOrphans(engine.docker)) {
    reporter.info(
      `Removed leftovers of an interrupted run of lab ${reaped.lab} (run ${reaped.run}): ` +
        `${reaped.containers.length} container(s), ${reaped.networks.length} network(s)`,
    );
  }
  await refuseIfLabExists(engine, lab);
}

async function refuseIfLabExists(engine: Engine, lab: string): Promise<void> {
  const existing = await engine.docker.listContainers({
    all: true,
    filters: { label: [`${LABEL.managed}=true`, `${LABEL.lab}=${lab}`] },
  });
  const existingNets = await engine.docker.listNetworks({ filters: { label: [`${LABEL.managed}=true`, `${LABEL.lab}=${lab}`] } });
  const first = existing[0]?.Labels ?? existingNets[0]?.Labels;
  if (!first) return;
  const kept = first[LABEL.keep] === "true";
  const owner = first[LABEL.owner] ?? "?";
  const why = kept ? "it was started to stay up" : ownerState(owner) === "alive" ? `process ${owner} is running it` : `it belongs to ${owner}`;
  throw new EnvironmentError(`Lab ${lab} is already up (${why})`, {
    remedy: `Stop it with \`failover-lab down ${lab}\`, or give this lab another name.`,
  });
}

