/**
 * A node kind turns a node of the resolved topology into what the runtime starts: an image, files,
 * the daemons it boots, and the commands that check its configuration. One file per kind.
 */
import type { Clock } from "../history/clock.ts";
import type { NodeSpec } from "../runtime/deployment.ts";
import type { LabNode } from "../runtime/node-container.ts";
import type { ResolvedNode, ResolvedTopology } from "../topology/resolve.ts";

export interface ConfigCheck {
  /** Human name, e.g. "keepalived --config-test". */
  name: string;
  command: string[];
}

export interface NodeKindPlugin {
  kind: ResolvedNode["kind"];
  spec(topology: ResolvedTopology, node: ResolvedNode, files: NodeFiles): NodeSpec;
  /** Commands that validate the node's files with its own daemons (run before the lab starts). */
  configChecks(): ConfigCheck[];
  /**
   * Resolve once the node serves (beyond its daemons running), for the lab's steady state; throw a
   * WaitTimeoutError naming what it waited for after `timeoutMs`. Absent: running daemons are enough.
   */
  ready?(ctx: ReadyContext): Promise<void>;
  /** How long `ready` may take by default. */
  readyTimeoutMs?: number;
}

export interface ReadyContext {
  topology: ResolvedTopology;
  node: LabNode;
  timeoutMs: number;
  clock: Clock;
  /** Say something the run must show (printed as a warning and kept in the history as a note). */
  warn(text: string): void;
}

/**
 * Hosts, not routers: Docker's host runs with ip_forward=1 and new network namespaces inherit it, so
 * a node would otherwise forward packets for an address it no longer holds (an old master relaying
 * clients' SYNs to the new one), which a real nginx host (kernel default 0) does not do.
 */
export const HOST_SYSCTLS = { "net.ipv4.ip_forward": "0" } as const;

/** Files rendered (or brought) for each node, keyed by node name. */
export type NodeFiles = ReadonlyMap<string, NodeSpec["files"]>;
