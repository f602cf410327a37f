/** Load balancer: nginx (http or stream) + keepalived, both started at boot, nginx first. */
import { KEEPALIVED_CONF } from "../topology/render-keepalived.ts";
import { NGINX_CONF } from "../topology/render-nginx.ts";
import { HOST_SYSCTLS, type NodeKindPlugin } from "./kind.ts";

export const loadBalancer: NodeKindPlugin = {
  kind: "lb",
  spec: (_t, node, files) => ({
    name: node.name,
    role: "lb",
    image: "lb",
    address: node.address,
    files: files.get(node.name) ?? [],
    boot: ["nginx", "keepalived"],
    sysctls: { ...HOST_SYSCTLS },
  }),
  configChecks: () => [
    { name: "keepalived --config-test", command: ["keepalived", "--config-test", "-f", KEEPALIVED_CONF] },
    { name: "nginx -t", command: ["nginx", "-t", "-q", "-c", NGINX_CONF] },
  ],
};
