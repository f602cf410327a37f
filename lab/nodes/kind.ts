/**
 * A node kind turns a node of the resolved topology into what the runtime starts: an image, files,
 * the daemons it boots, and the commands that check its configuration. One file per kind.
 */
import type { NodeSpec } from "../runtime/deployment.ts";
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
}

/** Files rendered (or brought) for each node, keyed by node name. */
export type NodeFiles = ReadonlyMap<string, NodeSpec["files"]>;
