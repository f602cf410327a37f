/**
 * Network chaos: firewalled VRRP, partitions, a link pulled, lossy adverts, a rogue router, a wrong
 * password. Firewall faults are iptables rules inside the nodes (NET_ADMIN), each tagged with an
 * iptables comment `fl:<tag>` so that its heal removes exactly them, on every node. Nothing here
 * sends a packet anywhere but between the lab's own nodes.
 */
import { LabError } from "../errors.ts";
import { formatIpv4, nthAddress } from "../ipv4.ts";
import type { Lab } from "../lab.ts";
import { HOST_SYSCTLS } from "../nodes/kind.ts";
import type { LabNode } from "../runtime/node-container.ts";
import { renderKeepalived } from "../topology/render-keepalived.ts";
import { type FaultOutcome, type FaultParams, registerFault } from "./faults.ts";

const VRRP_GROUP = "224.0.0.18";

/** Insert DROP rules tagged `fl:<tag>`; each rule is [chain, ...match]. */
async function drop(node: LabNode, tag: string, rules: string[][]): Promise<void> {
  for (const [chain, ...match] of rules) {
    await node.exec(["iptables", "-w", "-I", chain!, ...match, "-m", "comment", "--comment", `fl:${tag}`, "-j", "DROP"]);
  }
}

/** Remove every rule tagged `fl:<tag>` from every running node; returns what was removed, per node. */
async function clear(lab: Lab, tag: string): Promise<string[]> {
  const removed: string[] = [];
  for (const [name, node] of lab.deployment.nodes) {
    if ((await node.powerState()) !== "running") continue;
    const rules = (await node.exec(["iptables", "-w", "-S"])).stdout.split("\n").filter((l) => l.includes(`fl:${tag}`) && l.startsWith("-A "));
    for (const rule of rules) {
      await node.exec(["iptables", "-w", "-D", ...ruleArgs(rule.slice(3))]);
      removed.push(`${name}: ${rule.slice(3)}`);
    }
  }
  return removed;
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
    if (direction === "in" || direction === "both") {
      await drop(node, "block-vrrp", [["INPUT", "-p", "vrrp", ...(peer ? ["-s", addressOf(lab, peer)] : []), ...mcast]]);
      said.push(`${node.name} drops ${mcast.length ? "multicast " : ""}VRRP from ${peer ?? "everyone"}`);
    }
    if (direction === "out" || direction === "both") {
      if (peer) {
        // A multicast advert has no per-peer destination to filter on: the peer drops it on arrival.
        await drop(lab.node(peer), "block-vrrp", [["INPUT", "-p", "vrrp", "-s", node.address, ...mcast]]);
        said.push(`${peer} drops ${mcast.length ? "multicast " : ""}VRRP from ${node.name}`);
      } else {
        await drop(node, "block-vrrp", [["OUTPUT", "-p", "vrrp", ...mcast]]);
        said.push(`${node.name}'s ${mcast.length ? "multicast " : ""}VRRP does not leave it`);
      }
    }
    return { type: "ok", detail: said.join("; ") };
  },
});

registerFault({
  kind: "unblock-vrrp",
  describe: "remove every VRRP firewall rule block-vrrp added, on every node",
  appliesTo: ["lb"],
  act: async ({ lab }) => {
    const removed = await clear(lab, "block-vrrp");
    return removed.length ? { type: "ok", detail: `removed ${removed.join("; ")}` } : { type: "info", detail: "nothing to do: no VRRP rule was in place" };
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
      for (const peer of peers) {
        const ip = addressOf(lab, peer);
        await drop(node, "partition", [["INPUT", "-s", ip], ["OUTPUT", "-d", ip]]);
        // Multicast from the node is addressed to the group, not the peer: the peer drops it.
        await drop(lab.node(peer), "partition", [["INPUT", "-s", node.address]]);
      }
      return { type: "ok", detail: `${node.name} and ${peers.join(", ")} no longer exchange any packet; clients still reach ${node.name}` };
    }
    if (from === "clients") {
      const clients = [lab.topology.gateway, ...(lab.topology.client ? [lab.topology.client.address] : [])];
      for (const ip of clients) await drop(node, "partition", [["INPUT", "-s", ip], ["OUTPUT", "-d", ip]]);
      return { type: "ok", detail: `${node.name} no longer exchanges packets with the clients (${clients.join(", ")}); its peers still hear it` };
    }
    throw new LabError(`from must be "peers" or "clients", got "${from}"`);
  },
});

registerFault({
  kind: "heal-partition",
  describe: "remove every partition rule, on every node",
  appliesTo: ["lb", "web"],
  act: async ({ lab }) => {
    const removed = await clear(lab, "partition");
    return removed.length ? { type: "ok", detail: `removed ${removed.length} rule(s)` } : { type: "info", detail: "nothing to do: no partition was in place" };
  },
});

registerFault({
  kind: "link-down",
  describe: "pull the node's network cable: disconnect it from the lab network (its interface and addresses vanish)",
  appliesTo: ["lb", "web", "client"],
  heal: "link-up",
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
    await drop(node, "drop-adverts", [["INPUT", "-p", "vrrp", "-m", "statistic", "--mode", "random", "--probability", String(p)]]);
    return { type: "ok", detail: `${node.name} drops each arriving VRRP packet with probability ${p}` };
  },
});

registerFault({
  kind: "restore-adverts",
  describe: "stop dropping VRRP packets",
  appliesTo: ["lb"],
  act: async ({ lab }) => {
    const removed = await clear(lab, "drop-adverts");
    return removed.length ? { type: "ok", detail: `removed ${removed.join("; ")}` } : { type: "info", detail: "nothing to do: no advert was being dropped" };
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
  act: async ({ node, lab }) => {
    if (!lab.intruderNode(node.name)) return { type: "info", detail: `nothing to do: ${node.name} did not join during the run` };
    await lab.removeIntruder(node.name);
    return { type: "ok", detail: `${node.name} removed` };
  },
});

const SAVED_KEEPALIVED_CONF = "/etc/keepalived/keepalived.conf.lab-saved";

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
    await node.exec(["labctl", "stop", "keepalived"], { okExitCodes: [3], timeoutMs: 20_000 });
    await node.exec(["labctl", "start", "keepalived"], { timeoutMs: 20_000 });
    return { type: "ok", detail: `${node.name}'s auth_pass is now "${pass}"; keepalived restarted` };
  },
});

registerFault({
  kind: "restore-auth",
  describe: "give the node its own password back and restart its keepalived",
  appliesTo: ["lb"],
  act: async ({ node }) => {
    const r = await node.exec(["sh", "-c", `test -e ${SAVED_KEEPALIVED_CONF} || exit 3; mv ${SAVED_KEEPALIVED_CONF} /etc/keepalived/keepalived.conf`], { okExitCodes: [3] });
    if (r.exitCode === 3) return { type: "info", detail: "nothing to do: the password was not changed" };
    await node.exec(["labctl", "stop", "keepalived"], { okExitCodes: [3], timeoutMs: 20_000 });
    await node.exec(["labctl", "start", "keepalived"], { timeoutMs: 20_000 });
    return { type: "ok", detail: `${node.name}'s auth_pass restored; keepalived restarted` };
  },
});
