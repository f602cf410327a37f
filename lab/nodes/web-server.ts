/**
 * Web backend: nginx serving a page that names itself (X-Lab-Backend) and its peer (X-Lab-Peer). As an
 * LVS real server it also gets what its mode needs (render-lvs.ts: the boot hook, rendered with the
 * other files — the VIP on lo for DR, routes for NAT — and the sysctls).
 */
import { realServerSetup } from "../topology/render-lvs.ts";
import { HOST_SYSCTLS, type NodeKindPlugin } from "./kind.ts";

export const webServer: NodeKindPlugin = {
  kind: "web",
  spec: (t, node, files) => ({
    name: node.name,
    role: "web",
    image: "web",
    address: node.address,
    boot: ["nginx"],
    files: files.get(node.name) ?? [],
    sysctls: { ...HOST_SYSCTLS, ...realServerSetup(t, node.name).sysctls },
  }),
  configChecks: () => [],
};
