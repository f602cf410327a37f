/**
 * Nacos member: the Nacos 2.3.2 server of images/nacos in cluster mode, configured by the
 * /etc/lab/nacos.env rendered for it (topology/render-nacos.ts) and started at boot by `labctl start
 * nacos`. Ready when its readiness endpoint answers and it sees every member of the cluster UP.
 */
import { LabError, WaitTimeoutError } from "../errors.ts";
import type { LabNode } from "../runtime/node-container.ts";
import type { ResolvedTopology } from "../topology/resolve.ts";
import { HOST_SYSCTLS, type NodeKindPlugin, type ReadyContext } from "./kind.ts";

export const nacosMember: NodeKindPlugin = {
  kind: "nacos",
  spec: (_t, node, files) => ({
    name: node.name,
    role: "nacos",
    image: "nacos",
    address: node.address,
    files: files.get(node.name) ?? [],
    boot: ["nacos"],
    sysctls: { ...HOST_SYSCTLS },
  }),
  configChecks: () => [],
  // Three JVMs on two cores start in 36–51 s (images/nacos); a cluster needs a few report rounds more.
  readyTimeoutMs: 240_000,
  ready: (ctx) => waitForMember(ctx),
};

/** The cluster as one member sees it: address → state (UP, DOWN, SUSPICIOUS, …). */
export async function clusterView(node: LabNode, httpPort: number): Promise<Map<string, string>> {
  const r = await node.exec(["curl", "-fsS", "-m", "3", `http://127.0.0.1:${httpPort}/nacos/v1/core/cluster/nodes`], { check: false, timeoutMs: 10_000 });
  if (r.exitCode !== 0) throw new Error(`GET /nacos/v1/core/cluster/nodes in ${node.name}: curl exited ${r.exitCode} ${r.stderr.trim()}`);
  return parseClusterNodes(r.stdout);
}

/** Parse the body of GET /nacos/v1/core/cluster/nodes: `{ code, data: [{ address, state, … }] }`. */
export function parseClusterNodes(body: string): Map<string, string> {
  const parsed = JSON.parse(body) as { data?: Array<{ address?: unknown; state?: unknown }> };
  if (!Array.isArray(parsed.data)) throw new Error(`cluster/nodes answered without a data list: ${body.slice(0, 200)}`);
  return new Map(parsed.data.map((m) => [String(m.address), String(m.state)]));
}

/**
 * With embedded storage a config write goes through the raft group nacos_config: it fails with HTTP
 * 500 ("did not find the Leader node") until the group has a leader and the member's own route
 * table names it (refreshed every election timeout + up to 5 s), which can be seconds after every
 * member reports every other UP — a CI run saw 3 of a workload's first publishes fail 2 s after that.
 * So a member is ready once a config write through it is accepted: each member writes its own
 * entry in a group of the lab's, which no workload reads.
 */
export const CONFIG_WRITE_PROBE = { group: "FAILOVER_LAB", dataIdPrefix: "failover-lab.ready." } as const;

/** What is missing for `node` to be a ready member seeing all of `t`'s members UP (and accepting a config write), or undefined when nothing is. */
export async function memberNotReady(t: ResolvedTopology, node: LabNode): Promise<string | undefined> {
  const nacos = t.nacos!;
  const health = await node.exec(["curl", "-fsS", "-m", "3", "-o", "/dev/null", "-w", "%{http_code}", `http://127.0.0.1:${nacos.httpPort}/nacos/v1/console/health/readiness`], { check: false, timeoutMs: 10_000 });
  if (health.stdout.trim() !== "200") return `${node.name} is not ready (readiness: ${health.stdout.trim() || `curl exited ${health.exitCode}`})`;
  const view = await clusterView(node, nacos.httpPort);
  const missing = nacos.members.filter((m) => view.get(`${m.address}:${nacos.httpPort}`) !== "UP");
  if (missing.length) return `${node.name} sees ${missing.map((m) => `${m.name} ${view.get(`${m.address}:${nacos.httpPort}`) ?? "absent"}`).join(", ")}`;
  if (nacos.storage === "embedded") {
    const url = `http://127.0.0.1:${nacos.httpPort}/nacos/v1/cs/configs`;
    const form = `dataId=${CONFIG_WRITE_PROBE.dataIdPrefix}${node.name}&group=${CONFIG_WRITE_PROBE.group}&content=ready`;
    const write = await node.exec(["curl", "-sS", "-m", "5", "-X", "POST", "-d", form, url], { check: false, timeoutMs: 15_000 });
    if (write.stdout.trim() !== "true") return `${node.name} does not accept a config write yet (${(write.stdout.trim() || write.stderr.trim() || `curl exited ${write.exitCode}`).slice(0, 160)})`;
  }
  return undefined;
}

/**
 * How often a member whose JVM gave up while the cluster formed is started again. With embedded
 * storage a member that reaches its config dump before the raft group has a leader gives up ("The
 * Raft Group [nacos_config] did not find the Leader node"): on a loaded two-core machine the three
 * JVMs can start that far apart. Nacos deployments run the server under a supervisor that restarts
 * it; the lab does the same, says so, and keeps a note of it in the history.
 */
export const FORMATION_RESTARTS = 2;

async function waitForMember({ topology, node, timeoutMs, clock, warn }: ReadyContext): Promise<void> {
  const started = clock.nowMs();
  let last = "no answer yet";
  let restarts = 0;
  for (;;) {
    try {
      const why = await memberNotReady(topology, node);
      if (why === undefined) return;
      last = why;
    } catch (err) {
      last = (err as Error).message;
      // A node that is gone or off will not become ready: say so now, not at the deadline.
      const power = await node.powerState().catch((e: unknown) => `gone (${(e as Error).message})`);
      if (power !== "running") throw new LabError(`Nacos member ${node.name} cannot become ready: the node is ${power}`, { cause: err });
    }
    // Not ready: a JVM that gave up has exited (its port refuses, readiness 000): start it again.
    const status = await node.exec(["labctl", "status", "nacos"], { check: false, timeoutMs: 10_000 });
    if (status.exitCode === 3) {
      const reason = await exitReason(node);
      if (restarts >= FORMATION_RESTARTS) {
        throw new LabError(`Nacos member ${node.name} exited during start-up ${restarts + 1} times; the last time: ${reason}`, {
          remedy: `Look at ${node.name}'s /var/log/lab/nacos.log and /home/nacos/logs/nacos.log`,
        });
      }
      restarts++;
      warn(`${node.name}: Nacos exited while the cluster formed (${reason}); starting it again (${restarts} of ${FORMATION_RESTARTS}), as a supervisor would`);
      await node.exec(["labctl", "start", "nacos"], { okExitCodes: [3], timeoutMs: 200_000 });
      continue;
    }
    if (clock.nowMs() - started > timeoutMs) {
      const log = await node.exec(["tail", "-n", "5", "/var/log/lab/nacos.log"], { check: false }).catch(() => undefined);
      throw new WaitTimeoutError(`Nacos member ${node.name} ready and seeing every member UP (last: ${last})`, timeoutMs, {
        remedy: `Look at ${node.name}'s /var/log/lab/nacos.log and /home/nacos/logs/nacos.log${log?.stdout ? `; its last lines:\n${log.stdout}` : ""}`,
      });
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Why the member's last start failed, from its log: the deepest cause Spring printed, else the last line. */
async function exitReason(node: LabNode): Promise<string> {
  const log = await node.exec(["tail", "-n", "200", "/var/log/lab/nacos.log"], { check: false }).catch(() => undefined);
  const lines = (log?.stdout ?? "").split("\n").map((l) => l.replace(/^\d+\.\d+ /, "").trim()).filter(Boolean);
  const cause = lines.filter((l) => /did not find the Leader|Caused by|Exception:/.test(l)).at(-1) ?? lines.at(-1) ?? "no log";
  return cause.length > 240 ? `${cause.slice(0, 237)}…` : cause;
}
