/** Every node kind, registered once. */
import { clientNode } from "./client.ts";
import { director } from "./director.ts";
import type { NodeKindPlugin } from "./kind.ts";
import { loadBalancer } from "./load-balancer.ts";
import { mariadbNode } from "./mariadb.ts";
import { nacosMember } from "./nacos.ts";
import { webServer } from "./web-server.ts";

const KINDS: Record<string, NodeKindPlugin> = {
  [loadBalancer.kind]: loadBalancer,
  [webServer.kind]: webServer,
  [clientNode.kind]: clientNode,
  [nacosMember.kind]: nacosMember,
  [mariadbNode.kind]: mariadbNode,
  [director.kind]: director,
};

export function nodeKind(kind: string): NodeKindPlugin {
  const plugin = KINDS[kind];
  if (!plugin) throw new Error(`node kind "${kind}" is not supported. Supported kinds are: ${Object.keys(KINDS).join(", ")}`);
  return plugin;
}
