/**
 * The nacos and mariadb images against a real engine: three real Nacos 2.3.2 servers form a
 * cluster (embedded storage: Derby replicated by JRaft), serve naming and config from any member,
 * notice a killed member (DOWN) while the other two keep serving, and take it back when it is
 * started again; then the same three members on MariaDB storage.
 *
 * Every request goes from this process to the lab's own containers on the lab network (the host
 * reaches it through the bridge), every wait is bounded, and each lab is destroyed at the end.
 * The measurements (start-up times, RSS per JVM) are printed as `[nacos-image] …` lines.
 */
import { describe, expect, it } from "vitest";
import { deploy, type NodeSpec } from "../lab/runtime/deployment.ts";
import type { LabNode } from "../lab/runtime/node-container.ts";

const PORT = 8848;

function note(message: string): void {
  console.log(`[nacos-image] ${message}`);
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const end = performance.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (performance.now() > end) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ""}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

interface Reply {
  status: number;
  text: string;
}

/** One HTTP request to a lab node, form-encoded parameters, 5 s at most. */
async function http(method: "GET" | "POST", address: string, path: string, params: Record<string, string> = {}): Promise<Reply> {
  const query = new URLSearchParams(params);
  const url = `http://${address}:${PORT}/nacos${path}${method === "GET" && query.size ? `?${query}` : ""}`;
  const res = await fetch(url, {
    method,
    body: method === "POST" ? query : undefined,
    signal: AbortSignal.timeout(5_000),
  });
  return { status: res.status, text: await res.text() };
}

interface Member {
  address: string;
  state: string;
}

/** The cluster as one member sees it (open API GET /nacos/v1/core/cluster/nodes). */
async function members(address: string): Promise<Map<string, string>> {
  const r = await http("GET", address, "/v1/core/cluster/nodes");
  if (r.status !== 200) throw new Error(`cluster/nodes on ${address}: HTTP ${r.status} ${r.text.slice(0, 200)}`);
  const body = JSON.parse(r.text) as { data: Member[] };
  return new Map(body.data.map((m) => [m.address, m.state]));
}

/**
 * The leader of a raft group as a member reports it of itself (cluster/nodes, its own entry:
 * extendInfo.raftMetaData.metaDataMap[group].leader), or undefined while the group has none.
 */
async function raftLeader(address: string, group: string): Promise<string | undefined> {
  const r = await http("GET", address, "/v1/core/cluster/nodes");
  if (r.status !== 200) return undefined;
  type Meta = { leader?: string };
  const body = JSON.parse(r.text) as { data: { address: string; extendInfo?: { raftMetaData?: { metaDataMap?: Record<string, Meta> } } }[] };
  const self = body.data.find((m) => m.address === `${address}:${PORT}`);
  const leader = self?.extendInfo?.raftMetaData?.metaDataMap?.[group]?.leader;
  return leader ? leader : undefined;
}

async function ready(address: string): Promise<boolean> {
  const r = await http("GET", address, "/v1/console/health/readiness").catch(() => undefined);
  return r?.status === 200;
}

async function readConfig(address: string, dataId: string, group: string): Promise<string | undefined> {
  const r = await http("GET", address, "/v1/cs/configs", { dataId, group });
  return r.status === 200 ? r.text : undefined;
}

async function instanceIps(address: string, serviceName: string): Promise<string[]> {
  const r = await http("GET", address, "/v1/ns/instance/list", { serviceName });
  if (r.status !== 200) return [];
  return (JSON.parse(r.text) as { hosts: Array<{ ip: string; port: number }> }).hosts.map((h) => `${h.ip}:${h.port}`).sort();
}

function nacosNodes(prefix: string, extra: Record<string, string>, boot: string[]): NodeSpec[] {
  const addresses = [11, 12, 13].map((n) => `${prefix}.${n}`);
  const servers = addresses.map((a) => `${a}:${PORT}`).join(" ");
  return addresses.map((address, i) => ({
    name: `nacos${i + 1}`,
    role: "nacos",
    image: "nacos" as const,
    address,
    boot,
    files: [
      {
        path: "/etc/lab/nacos.env",
        content: Object.entries({ MODE: "cluster", NACOS_SERVERS: servers, NACOS_SERVER_IP: address, ...extra })
          .map(([k, v]) => `${k}=${v}\n`)
          .join(""),
      },
    ],
  }));
}

/** Seconds from nacos-start to "Nacos started successfully", from the last start in the node's log. */
async function startupSeconds(node: LabNode): Promise<number> {
  const log = await node.readFile("/var/log/lab/nacos.log");
  const stamp = (re: RegExp) => {
    const lines = log.split("\n").filter((l) => re.test(l));
    return lines.length ? Number(lines[lines.length - 1]!.split(" ")[0]) : Number.NaN;
  };
  return stamp(/Nacos started successfully/) - stamp(/nacos-start: Nacos /);
}

async function rssMiB(node: LabNode): Promise<number> {
  const r = await node.exec(["ps", "-o", "rss=", "-C", "nacos"]);
  return Math.round(Number(r.stdout.trim()) / 1024);
}

/** All three members ready, each seeing all three UP. */
async function waitForCluster(nodes: LabNode[], timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  const want = nodes.map((n) => `${n.address}:${PORT}`).sort();
  await until(
    "3 ready members, each seeing 3 UP",
    async () => {
      for (const n of nodes) {
        if (!(await ready(n.address))) return undefined;
        const m = await members(n.address);
        if ([...m.keys()].sort().join() !== want.join() || [...m.values()].some((s) => s !== "UP")) return undefined;
      }
      return true;
    },
    timeoutMs,
  );
  return (performance.now() - t0) / 1000;
}

describe("nacos image", () => {
  it("runs a 3-node Nacos cluster with embedded storage that survives losing one member", { timeout: 600_000 }, async () => {
    const t0 = performance.now();
    await using lab = await deploy({ lab: "nacos-embedded", subnet: "10.213.201.0/24", nodes: nacosNodes("10.213.201", {}, ["nacos"]) });
    const nodes = [lab.node("nacos1"), lab.node("nacos2"), lab.node("nacos3")];
    const [n1, n2, n3] = nodes as [LabNode, LabNode, LabNode];
    note(`embedded: containers up in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const formed = await waitForCluster(nodes, 240_000);
    note(`embedded: cluster of 3 ready ${((performance.now() - t0) / 1000).toFixed(1)} s after deploy began (${formed.toFixed(1)} s after the containers were up)`);
    for (const n of nodes) note(`embedded: ${n.name} JVM start-up to "started successfully": ${(await startupSeconds(n)).toFixed(1)} s, RSS ${await rssMiB(n)} MiB`);

    // Naming: a persistent instance (JRaft) and an ephemeral one (Distro), registered on member 1,
    // listed by member 2. The instance is member 3's own HTTP port, so its health check succeeds.
    // Readiness and "all UP" do not cover the persistent naming raft group: it elects its leader on
    // its own, and a write before that fails ("The Raft Group [naming_persistent_service_v2] did
    // not find the Leader node"). So wait until every member names the same leader.
    const group = "naming_persistent_service_v2";
    const leader = await until(`every member to name one leader of raft group ${group}`, async () => {
      const seen = await Promise.all(nodes.map((n) => raftLeader(n.address, group)));
      return seen.every((l) => l !== undefined && l === seen[0]) ? seen[0] : undefined;
    }, 120_000);
    note(`embedded: raft group ${group} led by ${leader} ${((performance.now() - t0) / 1000).toFixed(1)} s after deploy began`);
    // Even then a member forwards a write to the leader its own JRaft route table names, refreshed
    // every election timeout + random(0, 5 s) (nacos-timing.ts): until it has, the write fails the same way.
    const sinceLeader = performance.now();
    await until("a persistent instance registered on nacos1", async () => {
      const r = await http("POST", n1.address, "/v1/ns/instance", { serviceName: "lab-persistent", ip: n3.address, port: String(PORT), ephemeral: "false" });
      return r.status === 200 && r.text === "ok" ? true : undefined;
    }, 60_000);
    note(`embedded: first persistent write accepted ${((performance.now() - sinceLeader) / 1000).toFixed(1)} s after every member named the leader`);
    expect(await http("POST", n1.address, "/v1/ns/instance", { serviceName: "lab-ephemeral", ip: n3.address, port: String(PORT) })).toEqual({ status: 200, text: "ok" });
    for (const service of ["lab-persistent", "lab-ephemeral"]) {
      await until(`${service} listed by nacos2`, async () => ((await instanceIps(n2.address, service)).join() === `${n3.address}:${PORT}` ? true : undefined), 30_000);
    }

    // Config: published on member 1, read from member 2.
    expect(await http("POST", n1.address, "/v1/cs/configs", { dataId: "lab.properties", group: "LAB", content: "vip=10.213.201.100" })).toEqual({ status: 200, text: "true" });
    await until("config readable from nacos2", async () => ((await readConfig(n2.address, "lab.properties", "LAB")) === "vip=10.213.201.100" ? true : undefined), 30_000);

    // Kill member 3 (SIGKILL, no goodbye): the others report it DOWN and keep serving.
    const killedAt = performance.now();
    await n3.exec(["labctl", "kill", "nacos"]);
    const n3addr = `${n3.address}:${PORT}`;
    await until("nacos1 and nacos2 to report nacos3 DOWN", async () => {
      const [a, b] = [await members(n1.address), await members(n2.address)];
      return a.get(n3addr) === "DOWN" && b.get(n3addr) === "DOWN" && a.get(`${n1.address}:${PORT}`) === "UP" && a.get(`${n2.address}:${PORT}`) === "UP" ? true : undefined;
    }, 60_000);
    note(`embedded: nacos3 killed; DOWN on both survivors after ${((performance.now() - killedAt) / 1000).toFixed(1)} s`);

    await until("a config write while nacos3 is down", async () => {
      const r = await http("POST", n2.address, "/v1/cs/configs", { dataId: "lab.properties", group: "LAB", content: "vip=10.213.201.101" });
      return r.status === 200 && r.text === "true" ? true : undefined;
    }, 60_000);
    await until("the new config on nacos1", async () => ((await readConfig(n1.address, "lab.properties", "LAB")) === "vip=10.213.201.101" ? true : undefined), 30_000);
    // Persistent naming is its own raft group: if nacos3 led it, writes fail until the survivors elect a leader.
    await until("a persistent instance registered while nacos3 is down", async () => {
      const r = await http("POST", n2.address, "/v1/ns/instance", { serviceName: "lab-persistent", ip: n2.address, port: String(PORT), ephemeral: "false" });
      return r.status === 200 && r.text === "ok" ? true : undefined;
    }, 60_000);
    await until("both instances listed by nacos1", async () => ((await instanceIps(n1.address, "lab-persistent")).length === 2 ? true : undefined), 30_000);
    expect(await ready(n1.address)).toBe(true);
    expect(await ready(n2.address)).toBe(true);
    note(`embedded: the 2 survivors serve naming and config writes ${((performance.now() - killedAt) / 1000).toFixed(1)} s after the kill`);

    // Start member 3 again: it rejoins (UP everywhere) and catches up on what it missed.
    const restart = await n3.exec(["labctl", "start", "nacos"], { timeoutMs: 240_000 });
    note(`embedded: labctl start nacos on nacos3: ${restart.stdout.trim().replace(/\n/g, "; ")}`);
    const rejoined = await waitForCluster(nodes, 180_000);
    note(`embedded: nacos3 restarted: JVM start-up ${(await startupSeconds(n3)).toFixed(1)} s; whole cluster ready and UP ${rejoined.toFixed(1)} s after labctl returned`);
    await until("nacos3 to serve the config written while it was down", async () => ((await readConfig(n3.address, "lab.properties", "LAB")) === "vip=10.213.201.101" ? true : undefined), 60_000);
    await until("nacos3 to list both persistent instances", async () => ((await instanceIps(n3.address, "lab-persistent")).length === 2 ? true : undefined), 60_000);
    for (const n of nodes) note(`embedded: ${n.name} RSS after the test: ${await rssMiB(n)} MiB`);
    note(`embedded: test body ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  });

  it("runs the same 3 members on MariaDB storage with the Nacos schema", { timeout: 600_000 }, async () => {
    const t0 = performance.now();
    const db = { MYSQL_SERVICE_HOST: "10.213.202.20", MYSQL_SERVICE_DB_NAME: "nacos_lab", MYSQL_SERVICE_USER: "nacos", MYSQL_SERVICE_PASSWORD: "lab'secret" };
    await using lab = await deploy({
      lab: "nacos-mariadb",
      subnet: "10.213.202.0/24",
      nodes: [
        {
          name: "db",
          role: "mariadb",
          image: "mariadb",
          address: "10.213.202.20",
          boot: ["mariadb"],
          files: [{ path: "/etc/lab/mariadb.env", content: "MARIADB_DATABASE=nacos_lab\nMARIADB_USER=nacos\nMARIADB_PASSWORD=lab'secret\n" }],
        },
        // Nacos refuses to start without its database: the members are started once it is ready.
        ...nacosNodes("10.213.202", { SPRING_DATASOURCE_PLATFORM: "mysql", ...db }, []),
      ],
    });
    const dbNode = lab.node("db");
    const nodes = [lab.node("nacos1"), lab.node("nacos2"), lab.node("nacos3")];
    const [n1, , n3] = nodes as [LabNode, LabNode, LabNode];
    const sql = (query: string) => dbNode.exec(["mariadb", "--batch", "--skip-column-names", "nacos_lab", "-e", query]);
    await until("mariadb to answer", async () => ((await dbNode.exec(["labctl", "status", "mariadb"], { check: false })).exitCode === 0 && (await dbNode.exec(["mariadb", "-e", "SELECT 1"], { check: false })).exitCode === 0 ? true : undefined), 60_000);
    const tables = Number((await sql("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema='nacos_lab'")).stdout.trim());
    note(`mariadb: database ready ${((performance.now() - t0) / 1000).toFixed(1)} s after deploy began, ${tables} Nacos tables`);
    expect(tables).toBeGreaterThanOrEqual(12);

    const starts = await Promise.all(nodes.map((n) => n.exec(["labctl", "start", "nacos"], { timeoutMs: 240_000 })));
    starts.forEach((s, i) => note(`mariadb: nacos${i + 1} ${s.stdout.trim().replace(/\n/g, "; ")}`));
    await waitForCluster(nodes, 180_000);
    note(`mariadb: cluster of 3 ready ${((performance.now() - t0) / 1000).toFixed(1)} s after deploy began`);
    for (const n of nodes) note(`mariadb: ${n.name} JVM start-up ${(await startupSeconds(n)).toFixed(1)} s, RSS ${await rssMiB(n)} MiB`);

    expect(await http("POST", n1.address, "/v1/cs/configs", { dataId: "lab.yaml", group: "LAB", content: "storage: mariadb" })).toEqual({ status: 200, text: "true" });
    await until("config readable from nacos3", async () => ((await readConfig(n3.address, "lab.yaml", "LAB")) === "storage: mariadb" ? true : undefined), 30_000);
    expect((await sql("SELECT content FROM config_info WHERE data_id='lab.yaml' AND group_id='LAB'")).stdout.trim()).toBe("storage: mariadb");
    note(`mariadb: test body ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  });
});
