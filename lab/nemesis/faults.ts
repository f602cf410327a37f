/**
 * The faults the nemesis knows, each with what it does to a node and the fault that heals it.
 * A fault returns `ok` with what it did, or `info` when there was nothing to do ("nginx is not
 * running"); it throws only when it could not act at all.
 */
import { parseEpochRealtime } from "../history/clock.ts";
import type { FaultKind } from "../history/ops.ts";
import type { Lab } from "../lab.ts";
import type { LabNode } from "../runtime/node-container.ts";
import type { NodeKind } from "../topology/resolve.ts";

export type FaultParams = Record<string, string | number | boolean>;

export interface FaultTarget {
  node: LabNode;
  kind: NodeKind;
  /** Daemons the node boots, in order. */
  boot: string[];
  /** The fault's parameters, as given to `inject`. */
  params: FaultParams;
  /** The whole lab, for faults that touch more than one node (firewall rules on peers, a rogue router). */
  lab: Lab;
}

export interface FaultOutcome {
  type: "ok" | "info";
  detail: string;
  /** When the fault took effect, in epoch µs, as the node (labctl) or the engine timed it, if known. */
  effectAtEpochUs?: number;
  /**
   * A start: when the started daemon was ready to serve, in epoch µs, as the node's kernel recorded it
   * (nginx: the mtime of its pid file, written after its listening sockets are bound), if known.
   */
  readyAtEpochUs?: number;
}

export interface FaultDefinition {
  kind: FaultKind;
  /** One line for reports and the CLI. */
  describe: string;
  /** Node kinds it applies to. */
  appliesTo: NodeKind[];
  /** The fault that undoes it, when there is one. */
  heal?: FaultKind;
  /** Parameters it accepts, with what each means (checked before the fault runs). */
  params?: Record<string, string>;
  /** Power state changes the observers must follow. */
  power?: "off" | "on" | "frozen" | "thawed";
  /**
   * `invoke`: the fault takes effect during the engine call and nothing times it more finely, so the
   * call's start is its effect (the earliest it can have happened). Default: as the outcome reports.
   */
  effectAt?: "invoke";
  /** What the fault does to an existing node. */
  act?(target: FaultTarget): Promise<FaultOutcome>;
  /** Set for a fault that brings a new node onto the network (its name is the fault's node). */
  createsNode?: true;
  create?(target: { name: string; params: FaultParams; lab: Lab }): Promise<FaultOutcome>;
}

/** Run `labctl <action> <daemon>`; exit 3 means "nothing to do". */
export async function labctl(node: LabNode, action: string, daemon: string, timeoutMs = 20_000): Promise<FaultOutcome> {
  const r = await node.exec(["labctl", action, daemon], { okExitCodes: [3], timeoutMs });
  const lines = (r.stdout || r.stderr).trim().split("\n");
  const effect = /^effect (\S+)$/.exec(lines.at(-1) ?? "");
  const said = (effect ? lines.slice(0, -1) : lines).join("; ");
  if (r.exitCode === 3) return { type: "info", detail: `nothing to do: ${said}` };
  const stamp = effect ? parseEpochRealtime(effect[1]!) : undefined;
  return { type: "ok", detail: said, ...(stamp ? { effectAtEpochUs: stamp } : {}) };
}

const SAVED_NGINX_CONF = "/etc/nginx/nginx.conf.lab-saved";

const definitions: FaultDefinition[] = [
  {
    kind: "kill-nginx",
    describe: "SIGKILL every nginx process (master and workers)",
    appliesTo: ["lb", "web"],
    heal: "start-nginx",
    act: ({ node }) => labctl(node, "kill", "nginx"),
  },
  {
    kind: "stop-nginx",
    describe: "stop nginx gracefully (QUIT, like `systemctl stop nginx`)",
    appliesTo: ["lb", "web"],
    heal: "start-nginx",
    act: ({ node }) => labctl(node, "stop", "nginx"),
  },
  {
    kind: "start-nginx",
    describe: "start nginx",
    appliesTo: ["lb", "web"],
    act: async ({ node }) => {
      const started = await labctl(node, "start", "nginx");
      if (started.type !== "ok") return started;
      // nginx writes its pid file after it has bound its listening sockets: from then on it accepts
      // connections. On a slow engine that can be a second after the start began (the effect).
      const ready = await node.exec(["stat", "-c", "%.6Y", "/run/nginx.pid"], { check: false });
      const stamp = ready.exitCode === 0 ? parseEpochRealtime(ready.stdout.trim()) : undefined;
      return stamp === undefined ? started : { ...started, readyAtEpochUs: stamp };
    },
  },
  {
    kind: "break-nginx",
    describe: "make nginx.conf invalid, so that nginx cannot start (a bad deploy)",
    appliesTo: ["lb", "web"],
    heal: "repair-nginx",
    act: async ({ node }) => {
      const r = await node.exec(["sh", "-c", `test -e ${SAVED_NGINX_CONF} && exit 3; cp /etc/nginx/nginx.conf ${SAVED_NGINX_CONF} && echo 'this_is_not_a_directive;' >> /etc/nginx/nginx.conf`], { okExitCodes: [3] });
      return r.exitCode === 3 ? { type: "info", detail: "nothing to do: nginx.conf is already broken" } : { type: "ok", detail: "nginx.conf now fails `nginx -t`; running nginx processes are untouched" };
    },
  },
  {
    kind: "repair-nginx",
    describe: "restore the nginx.conf that break-nginx replaced",
    appliesTo: ["lb", "web"],
    act: async ({ node }) => {
      const r = await node.exec(["sh", "-c", `test -e ${SAVED_NGINX_CONF} || exit 3; mv ${SAVED_NGINX_CONF} /etc/nginx/nginx.conf`], { okExitCodes: [3] });
      return r.exitCode === 3 ? { type: "info", detail: "nothing to do: nginx.conf was not broken" } : { type: "ok", detail: "nginx.conf restored" };
    },
  },
  {
    kind: "stop-keepalived",
    describe: "stop keepalived gracefully (SIGTERM: a master sends priority-0 adverts and removes its VIPs)",
    appliesTo: ["lb", "director"],
    heal: "start-keepalived",
    act: ({ node }) => labctl(node, "stop", "keepalived"),
  },
  {
    kind: "kill-keepalived",
    describe: "SIGKILL every keepalived process (no goodbye; the VIPs stay on the interface)",
    appliesTo: ["lb", "director"],
    heal: "start-keepalived",
    act: ({ node }) => labctl(node, "kill", "keepalived"),
  },
  {
    kind: "start-keepalived",
    describe: "start keepalived",
    appliesTo: ["lb", "director"],
    act: ({ node }) => labctl(node, "start", "keepalived"),
  },
  {
    kind: "power-off",
    describe: "pull the plug: SIGKILL to every process of the node, its interface gone (no goodbye packets)",
    appliesTo: ["lb", "web", "client", "nacos", "mariadb", "director"],
    heal: "power-on",
    power: "off",
    act: async ({ node }) => {
      if ((await node.powerState()) === "off") return { type: "info", detail: "nothing to do: the node is already off" };
      const died = await node.powerOff();
      return { type: "ok", detail: "powered off", ...(died ? { effectAtEpochUs: died } : {}) };
    },
  },
  {
    kind: "power-on",
    describe: "power the node on: it boots and starts its daemons",
    appliesTo: ["lb", "web", "client", "nacos", "mariadb", "director"],
    power: "on",
    act: async ({ node, boot }) => {
      const state = await node.powerState();
      if (state === "running") return { type: "info", detail: "nothing to do: the node is already on" };
      if (state === "frozen") return { type: "info", detail: "nothing to do: the node is frozen, not off (thaw it)" };
      const started = await node.powerOn();
      return { type: "ok", detail: `powered on; boots ${boot.join(", ") || "no daemons"}`, ...(started ? { effectAtEpochUs: started } : {}) };
    },
  },
  {
    kind: "reboot",
    describe: "reboot: stop the daemons gracefully in reverse boot order, power off, power on",
    appliesTo: ["lb", "web", "client", "director"],
    power: "on",
    act: async ({ node, boot }) => {
      if ((await node.powerState()) !== "running") return { type: "info", detail: "nothing to do: the node is not running" };
      for (const daemon of [...boot].reverse()) await labctl(node, "stop", daemon);
      await node.powerOff();
      await node.powerOn();
      return { type: "ok", detail: `stopped ${[...boot].reverse().join(", ") || "nothing"}, rebooted` };
    },
  },
  {
    kind: "freeze",
    describe: "freeze every process of the node (its kernel still holds the node's addresses)",
    appliesTo: ["lb", "web", "client", "nacos", "mariadb", "director"],
    heal: "thaw",
    power: "frozen",
    effectAt: "invoke",
    act: async ({ node }) => {
      const state = await node.powerState();
      if (state !== "running") return { type: "info", detail: `nothing to do: the node is ${state}` };
      await node.freeze();
      return { type: "ok", detail: "frozen" };
    },
  },
  {
    kind: "thaw",
    describe: "thaw a frozen node",
    appliesTo: ["lb", "web", "client", "nacos", "mariadb", "director"],
    power: "thawed",
    effectAt: "invoke",
    act: async ({ node }) => {
      if ((await node.powerState()) !== "frozen") return { type: "info", detail: "nothing to do: the node is not frozen" };
      await node.thaw();
      return { type: "ok", detail: "thawed" };
    },
  },
  {
    kind: "stop-backend",
    describe: "stop a backend's nginx (connections to it are refused)",
    appliesTo: ["web"],
    heal: "start-backend",
    act: ({ node }) => labctl(node, "stop", "nginx"),
  },
  {
    kind: "start-backend",
    describe: "start a backend's nginx",
    appliesTo: ["web"],
    act: ({ node }) => labctl(node, "start", "nginx"),
  },
];

export const FAULTS: ReadonlyMap<FaultKind, FaultDefinition> = new Map(definitions.map((d) => [d.kind, d]));

/** Add a fault kind (used by the network-chaos faults and by users' own scenarios). */
export function registerFault(definition: FaultDefinition): void {
  (FAULTS as Map<FaultKind, FaultDefinition>).set(definition.kind, definition);
}
