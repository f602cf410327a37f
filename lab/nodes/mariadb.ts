/**
 * MariaDB node: the database of a Nacos cluster with MySQL storage (images/mariadb), configured by
 * the /etc/lab/mariadb.env rendered for it; it creates the Nacos schema on first start. Ready when
 * it answers a query.
 */
import { WaitTimeoutError } from "../errors.ts";
import { HOST_SYSCTLS, type NodeKindPlugin } from "./kind.ts";

export const mariadbNode: NodeKindPlugin = {
  kind: "mariadb",
  spec: (_t, node, files) => ({
    name: node.name,
    role: "mariadb",
    image: "mariadb",
    address: node.address,
    files: files.get(node.name) ?? [],
    boot: ["mariadb"],
    sysctls: { ...HOST_SYSCTLS },
  }),
  configChecks: () => [],
  readyTimeoutMs: 120_000,
  ready: async ({ node, timeoutMs, clock }) => {
    const started = clock.nowMs();
    for (;;) {
      const r = await node.exec(["mariadb", "-e", "SELECT 1"], { check: false, timeoutMs: 10_000 });
      if (r.exitCode === 0) return;
      if (clock.nowMs() - started > timeoutMs) {
        throw new WaitTimeoutError(`MariaDB on ${node.name} to answer a query (last: ${r.stderr.trim() || `exit ${r.exitCode}`})`, timeoutMs, {
          remedy: `Look at ${node.name}'s /var/log/lab/mariadb.log`,
        });
      }
      await new Promise((res) => setTimeout(res, 500));
    }
  },
};
