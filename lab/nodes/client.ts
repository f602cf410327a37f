/** Client node: the base image with no daemons; a vantage point on the lab network (ARP, captures). */
import { HOST_SYSCTLS, type NodeKindPlugin } from "./kind.ts";

export const clientNode: NodeKindPlugin = {
  kind: "client",
  spec: (_t, node) => ({ name: node.name, role: "client", image: "base", address: node.address, boot: [], sysctls: { ...HOST_SYSCTLS } }),
  configChecks: () => [],
};
