/**
 * Load balancer: nginx (http or stream) + keepalived, both started at boot, nginx first. As an LVS
 * real server (the document's nginx tier behind the directors) it runs keepalived only when it takes
 * part in a VRRP instance of its own, and gets the sysctls the LVS mode needs (render-lvs.ts; its boot
 * hook is rendered with its other files).
 */
import { KEEPALIVED_CONF } from "../topology/render-keepalived.ts";
import { realServerSetup } from "../topology/render-lvs.ts";
import { NGINX_CONF } from "../topology/render-nginx.ts";
import { HOST_SYSCTLS, type NodeKindPlugin } from "./kind.ts";

export const loadBalancer: NodeKindPlugin = {
  kind: "lb",
  spec: (t, node, files) => {
    const vrrp = t.byo.keepalived !== undefined || t.vrrp.instances.some((i) => i.members.some((m) => m.node === node.name));
    return {
      name: node.name,
      role: "lb",
      image: "lb",
      address: node.address,
      files: files.get(node.name) ?? [],
      boot: vrrp ? ["nginx", "keepalived"] : ["nginx"],
      sysctls: { ...HOST_SYSCTLS, ...realServerSetup(t, node.name).sysctls },
    };
  },
  configChecks: () => [
    { name: "keepalived --config-test", command: ["keepalived", "--config-test", "-f", KEEPALIVED_CONF] },
    { name: "nginx -t", command: ["nginx", "-t", "-q", "-c", NGINX_CONF] },
  ],
};
