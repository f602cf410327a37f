/** Web backend: nginx serving a page that names itself (X-Lab-Backend) and its peer (X-Lab-Peer). */
import { HOST_SYSCTLS, type NodeKindPlugin } from "./kind.ts";

export const webServer: NodeKindPlugin = {
  kind: "web",
  spec: (_t, node) => ({ name: node.name, role: "web", image: "web", address: node.address, boot: ["nginx"], sysctls: { ...HOST_SYSCTLS } }),
  configChecks: () => [],
};
