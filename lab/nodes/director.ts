/**
 * LVS director: keepalived with a VRRP instance for the VIP and the `virtual_server` that programs
 * IPVS (and health-checks the real servers); ipvsadm is there to look at the table. Needs an engine
 * whose kernel has IPVS (runtime/engines.ts picks one).
 */
import { WaitTimeoutError } from "../errors.ts";
import { KEEPALIVED_CONF } from "../topology/render-keepalived.ts";
import { directorSysctls } from "../topology/render-lvs.ts";
import { HOST_SYSCTLS, type NodeKindPlugin } from "./kind.ts";

export const director: NodeKindPlugin = {
  kind: "director",
  spec: (t, node, files) => ({
    name: node.name,
    role: "director",
    image: "lb",
    address: node.address,
    files: files.get(node.name) ?? [],
    boot: ["keepalived"],
    sysctls: { ...HOST_SYSCTLS, ...directorSysctls(t) },
  }),
  configChecks: () => [{ name: "keepalived --config-test", command: ["keepalived", "--config-test", "-f", KEEPALIVED_CONF] }],
  /** Serving: keepalived has put the virtual service into this director's IPVS table. */
  async ready({ topology, node, timeoutMs, clock }) {
    const lvs = topology.lvs;
    if (!lvs) return;
    const service = `${lvs.vip}:${lvs.port}`;
    const started = clock.nowMs();
    for (;;) {
      const r = await node.exec(["ipvsadm", "-Ln", "-t", service], { check: false });
      if (r.exitCode === 0 && r.stdout.includes(service)) return;
      if (clock.nowMs() - started > timeoutMs) {
        throw new WaitTimeoutError(`virtual service ${service} in the IPVS table of ${node.name} (ipvsadm said: ${(r.stderr || r.stdout).trim().slice(0, 200)})`, timeoutMs);
      }
      await new Promise((res) => setTimeout(res, 250));
    }
  },
  readyTimeoutMs: 30_000,
};
