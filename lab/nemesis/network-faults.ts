/**
 * Network chaos: firewalled VRRP, partitions, a link pulled, lossy adverts, a rogue router, a wrong
 * password. Firewall faults are iptables rules inside the nodes (NET_ADMIN), each tagged with an
 * iptables comment `fl:<tag>` so that its heal removes exactly them, on every node. Nothing here
 * sends a packet anywhere but between the lab's own nodes.
 */
import { LabError } from "../errors.ts";
import { parseEpochRealtime } from "../history/clock.ts";
import { formatIpv4, nthAddress } from "../ipv4.ts";
import type { Lab } from "../lab.ts";
import { HOST_SYSCTLS } from "../nodes/kind.ts";
import type { LabNode } from "../runtime/node-container.ts";
import { renderKeepalived } from "../topology/render-keepalived.ts";
import { type FaultOutcome, type FaultParams, registerFault } from "./faults.ts";

const VRRP_GROUP = "224.0.0.18";

/**
 * Run `iptables <args>` in the node and return when it took effect there: the node's clock just
 * before the rule changed (epoch µs; the earliest the change can have acted, as labctl stamps its
 * signals). The arguments are passed as positional parameters, never as script text.
 */
async function iptables(node: LabNode, args: string[]): Promise<number | undefined> {
  const r = await node.exec(["bash", "-c", 'echo "$EPOCHREALTIME"; exec iptables -w "$@"', "iptables", ...args]);
  return parseEpochRealtime(r.stdout.trim().split("\n")[0] ?? "");
}

/** Insert DROP rules tagged `fl:<tag>`; each rule is [chain, ...match]. Returns when the last took effect. */
async function drop(node: LabNode, tag: string, rules: string[][]): Promise<number | undefined> {
  let effect: number | undefined;
  for (const [chain, ...match] of rules) {
    effect = await iptables(node, ["-I", chain!, ...match, "-m", "comment", "--comment", `fl:${tag}`, "-j", "DROP"]);
  }
  return effect;
}

/** Remove every rule tagged `fl:<tag>` from every running node: what was removed, and when the last went. */
async function clear(lab: Lab, tag: string): Promise<{ removed: string[]; effect: number | undefined }> {
  const removed: string[] = [];
  let effect: number | undefined;
  for (const [name, node] of lab.deployment.nodes) {
    if ((await node.powerState()) !== "running") continue;
    const rules = (await node.exec(["iptables", "-w", "-S"])).stdout.split("\n").filter((l) => l.includes(`fl:${tag}`) && l.startsWith("-A "));
    for (const rule of rules) {
      effect = (await iptables(node, ["-D", ...ruleArgs(rule.slice(3))])) ?? effect;
      removed.push(`${name}: ${rule.slice(3)}`);
    }
  }
  return { removed, effect };
}

/** An `ok` outcome with the effect time, when known. */
function done(detail: string, effect: number | undefined): FaultOutcome {
  return { type: "ok", detail, ...(effect !== undefined ? { effectAtEpochUs: effect } : {}) };
}

/** The outcome of a heal that removed `tag` rules. */
function cleared(result: { removed: string[]; effect: number | undefined }, nothing: string): FaultOutcome {
  return result.removed.length ? done(`removed ${result.removed.join("; ")}`, result.effect) : { type: "info", detail: `nothing to do: ${nothing}` };
}

/** The words of a rule as `iptables -S` prints it (quoted words unquoted). */
export function ruleArgs(rule: string): string[] {
  return (rule.match(/"(?:[^"\\]|\\.)*"|\S+/g) ?? []).map((t) => (t.startsWith('"') ? t.slice(1, -1).replace(/\\(.)/g, "$1") : t));
}

function addressOf(lab: Lab, name: string): string {
  const address = lab.addresses().get(name);
  if (!address) throw new LabError(`Lab ${lab.name} has no node "${name}". Its nodes are: ${[...lab.addresses().keys()].join(", ")}`);
  return address;
}

/** The other load balancers sharing a VRRP instance with `name` (intruders included). */
function peersOf(lab: Lab, name: string): string[] {
  const fromTopology = lab.topology.vrrp.instances.filter((i) => i.members.some((m) => m.node === name)).flatMap((i) => i.members.map((m) => m.node));
  const all = new Set([...fromTopology, ...lab.topology.lbs.map((l) => l.name)]);
  all.delete(name);
  return [...all];
}

function param<T extends string | number | boolean>(params: FaultParams, key: string, fallback: T): T {
  const v = params[key];
  if (v === undefined) return fallback;
  if (typeof v !== typeof fallback) throw new LabError(`parameter "${key}" must be a ${typeof fallback}, got ${JSON.stringify(v)}`);
  return v as T;
}

registerFault({
  kind: "block-vrrp",
  describe: "firewall VRRP (IP protocol 112) into and/or out of the node, or only from/to one peer",
  appliesTo: ["lb"],
  heal: "unblock-vrrp",
  params: {
    direction: '"in", "out" or "both" (default both)',
    peer: "only VRRP from (in) / to (out) this node",
    multicastOnly: `only adverts sent to the multicast group ${VRRP_GROUP} (unicast adverts pass)`,
  },
  act: async ({ node, params, lab }) => {
    const direction: string = param<string>(params, "direction", "both");
    if (!["in", "out", "both"].includes(direction)) throw new LabError(`direction must be "in", "out" or "both", got "${direction}"`);
    const peer = params.peer === undefined ? undefined : String(params.peer);
    const mcast = param(params, "multicastOnly", false) ? ["-d", VRRP_GROUP] : [];
    const said: string[] = [];
    let effect: number | undefined;
    if (direction === "in" || direction === "both") {
      effect = await drop(node, "block-vrrp", [["INPUT", "-p", "vrrp", ...(peer ? ["-s", addressOf(lab, peer)] : []), ...mcast]]);
      said.push(`${node.name} drops ${mcast.length ? "multicast " : ""}VRRP from ${peer ?? "everyone"}`);
    }
    if (direction === "out" || direction === "both") {
      if (peer) {
        // A multicast advert has no per-peer destination to filter on: the peer drops it on arrival.
        effect = (await drop(lab.node(peer), "block-vrrp", [["INPUT", "-p", "vrrp", "-s", node.address, ...mcast]])) ?? effect;
        said.push(`${peer} drops ${mcast.length ? "multicast " : ""}VRRP from ${node.name}`);
      } else {
        effect = (await drop(node, "block-vrrp", [["OUTPUT", "-p", "vrrp", ...mcast]])) ?? effect;
        said.push(`${node.name}'s ${mcast.length ? "multicast " : ""}VRRP does not leave it`);
      }
    }
    return done(said.join("; "), effect);
  },
});

registerFault({
  kind: "unblock-vrrp",
  describe: "remove every VRRP firewall rule block-vrrp added, on every node",
  appliesTo: ["lb"],
  act: async ({ lab }) => {
    return cleared(await clear(lab, "block-vrrp"), "no VRRP rule was in place");
  },
});

registerFault({
  kind: "partition",
  describe: "cut the node off from its peers (clients still reach it) or from its clients (peers still hear it)",
  appliesTo: ["lb", "web"],
  heal: "heal-partition",
  params: { from: '"peers" (the other load balancers) or "clients" (the host and the client node)' },
  act: async ({ node, params, lab }) => {
    const from: string = param<string>(params, "from", "peers");
    if (from === "peers") {
      const peers = peersOf(lab, node.name);
      let effect: number | undefined;
      for (const peer of peers) {
        const ip = addressOf(lab, peer);
        await drop(node, "partition", [["INPUT", "-s", ip], ["OUTPUT", "-d", ip]]);
        // Multicast from the node is addressed to the group, not the peer: the peer drops it.
        effect = await drop(lab.node(peer), "partition", [["INPUT", "-s", node.address]]);
      }
      return done(`${node.name} and ${peers.join(", ")} no longer exchange any packet; clients still reach ${node.name}`, effect);
    }
    if (from === "clients") {
      const clients = [lab.topology.gateway, ...(lab.topology.client ? [lab.topology.client.address] : [])];
      let effect: number | undefined;
      for (const ip of clients) effect = await drop(node, "partition", [["INPUT", "-s", ip], ["OUTPUT", "-d", ip]]);
      return done(`${node.name} no longer exchanges packets with the clients (${clients.join(", ")}); its peers still hear it`, effect);
    }
    throw new LabError(`from must be "peers" or "clients", got "${from}"`);
  },
});

registerFault({
  kind: "heal-partition",
  describe: "remove every partition rule, on every node",
  appliesTo: ["lb", "web"],
  act: async ({ lab }) => {
    return cleared(await clear(lab, "partition"), "no partition was in place");
  },
});

registerFault({
  kind: "link-down",
  describe: "pull the node's network cable: disconnect it from the lab network (its interface and addresses vanish)",
  appliesTo: ["lb", "web", "client"],
  heal: "link-up",
  effectAt: "invoke",
  act: async ({ node, lab }) => {
    const net = lab.deployment.engine.docker.getNetwork(lab.deployment.network.id);
    try {
      await net.disconnect({ Container: node.containerId, Force: true });
    } catch (err) {
      if (/is not connected/i.test((err as Error).message)) return { type: "info", detail: "nothing to do: the link is already down" };
      throw err;
    }
    return { type: "ok", detail: `${node.name} disconnected from ${lab.deployment.network.name}` };
  },
});

registerFault({
  kind: "link-up",
  describe: "plug the node back into the lab network, with its address",
  appliesTo: ["lb", "web", "client"],
  effectAt: "invoke",
  act: async ({ node, lab }) => {
    const net = lab.deployment.engine.docker.getNetwork(lab.deployment.network.id);
    try {
      await net.connect({ Container: node.containerId, EndpointConfig: { IPAMConfig: { IPv4Address: node.address } } });
    } catch (err) {
      if (/already exists|already attached/i.test((err as Error).message)) return { type: "info", detail: "nothing to do: the link is up" };
      throw err;
    }
    return { type: "ok", detail: `${node.name} reconnected to ${lab.deployment.network.name} as ${node.address}` };
  },
});

registerFault({
  kind: "drop-adverts",
  describe: "drop a random fraction of the VRRP packets arriving at the node (iptables statistic; no netem needed)",
  appliesTo: ["lb"],
  heal: "restore-adverts",
  params: { probability: "fraction of VRRP packets dropped, 0–1 (default 0.5)" },
  act: async ({ node, params }) => {
    const p = param(params, "probability", 0.5);
    if (!(p > 0 && p <= 1)) throw new LabError(`probability must be in (0, 1], got ${p}`);
    const effect = await drop(node, "drop-adverts", [["INPUT", "-p", "vrrp", "-m", "statistic", "--mode", "random", "--probability", String(p)]]);
    return done(`${node.name} drops each arriving VRRP packet with probability ${p}`, effect);
  },
});

registerFault({
  kind: "restore-adverts",
  describe: "stop dropping VRRP packets",
  appliesTo: ["lb"],
  act: async ({ lab }) => {
    return cleared(await clear(lab, "drop-adverts"), "no advert was being dropped");
  },
});

registerFault({
  kind: "join-rogue",
  describe: "a misconfigured router joins: a new keepalived node with the same VRID and VIP and a higher priority",
  appliesTo: ["lb"],
  heal: "remove-rogue",
  params: {
    instance: "the VRRP instance it copies (default the first)",
    priority: "its priority, 1–254 (default 254)",
    host: "its host number in the lab subnet (default 66)",
  },
  createsNode: true,
  create: async ({ name, params, lab }): Promise<FaultOutcome> => {
    if (lab.addresses().has(name)) return { type: "info", detail: `nothing to do: ${name} is already on the network` };
    const inst = lab.instance(params.instance === undefined ? undefined : String(params.instance));
    const priority = param(params, "priority", 254);
    if (!(Number.isInteger(priority) && priority >= 1 && priority <= 254)) throw new LabError(`priority must be 1–254, got ${priority}`);
    const host = param(params, "host", 66);
    const address = formatIpv4(nthAddress(lab.topology.subnet, host));
    if ([...lab.addresses().values()].includes(address) || lab.topology.vrrp.instances.some((i) => i.vips.includes(address))) {
      throw new LabError(`host ${host} (${address}) is already used in lab ${lab.name}; give the rogue another host number`);
    }
    const rogue = { name, kind: "lb" as const, address };
    const view = {
      ...lab.topology,
      lbs: [...lab.topology.lbs, rogue],
      vrrp: { ...lab.topology.vrrp, scripts: {}, instances: [{ ...inst, members: [{ node: name, state: "BACKUP" as const, priority }], track: [], notify: false }] },
    };
    const files = renderKeepalived(view, name);
    await lab.addIntruder({ name, role: "rogue", image: "lb", address, boot: ["keepalived"], files, sysctls: { ...HOST_SYSCTLS } }, [inst.name]);
    return { type: "ok", detail: `${name} (${address}) joined with VRID ${inst.vrid}, VIP ${inst.vips.join(", ")}, priority ${priority}` };
  },
});

registerFault({
  kind: "remove-rogue",
  describe: "remove the rogue router from the network",
  appliesTo: ["lb"],
  effectAt: "invoke",
  act: async ({ node, lab }) => {
    if (!lab.intruderNode(node.name)) return { type: "info", detail: `nothing to do: ${node.name} did not join during the run` };
    await lab.removeIntruder(node.name);
    return { type: "ok", detail: `${node.name} removed` };
  },
});

const SAVED_KEEPALIVED_CONF = "/etc/keepalived/keepalived.conf.lab-saved";

/** Restart keepalived (graceful stop, start); returns when the stop took effect (labctl's stamp). */
async function restartKeepalived(node: LabNode): Promise<number | undefined> {
  const stop = await node.exec(["labctl", "stop", "keepalived"], { okExitCodes: [3], timeoutMs: 20_000 });
  await node.exec(["labctl", "start", "keepalived"], { timeoutMs: 20_000 });
  const effect = /^effect (\S+)$/m.exec(stop.stdout);
  return effect ? parseEpochRealtime(effect[1]!) : undefined;
}

registerFault({
  kind: "set-auth",
  describe: "give the node another VRRP password (auth_pass) and restart its keepalived: an authentication mismatch",
  appliesTo: ["lb"],
  heal: "restore-auth",
  params: { pass: "the new password, at most 8 characters (default \"wrongpw\")" },
  act: async ({ node, params }) => {
    const pass = param(params, "pass", "wrongpw");
    if (!/^[\x21-\x7e]{1,8}$/.test(pass)) throw new LabError(`pass must be 1–8 printable characters, got ${JSON.stringify(pass)}`);
    const conf = await node.readFile("/etc/keepalived/keepalived.conf");
    if (!/^\s*auth_pass\s/m.test(conf)) return { type: "info", detail: "nothing to do: keepalived.conf has no PASS authentication (VRRPv3 has none)" };
    await node.exec(["sh", "-c", `test -e ${SAVED_KEEPALIVED_CONF} || cp /etc/keepalived/keepalived.conf ${SAVED_KEEPALIVED_CONF}; sed -i 's/^\\(\\s*auth_pass\\s\\+\\).*/\\1${pass}/' /etc/keepalived/keepalived.conf`]);
    const stopped = await restartKeepalived(node);
    return done(`${node.name}'s auth_pass is now "${pass}"; keepalived restarted`, stopped);
  },
});

registerFault({
  kind: "restore-auth",
  describe: "give the node its own password back and restart its keepalived",
  appliesTo: ["lb"],
  act: async ({ node }) => {
    const r = await node.exec(["sh", "-c", `test -e ${SAVED_KEEPALIVED_CONF} || exit 3; mv ${SAVED_KEEPALIVED_CONF} /etc/keepalived/keepalived.conf`], { okExitCodes: [3] });
    if (r.exitCode === 3) return { type: "info", detail: "nothing to do: the password was not changed" };
    const stopped = await restartKeepalived(node);
    return done(`${node.name}'s auth_pass restored; keepalived restarted`, stopped);
  },
});
