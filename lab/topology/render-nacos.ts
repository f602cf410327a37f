/**
 * The settings files of a topology's Nacos cluster: each member's /etc/lab/nacos.env (the official
 * nacos/nacos-server image's variables, read by images/nacos/rootfs/home/nacos/bin/nacos-env.sh) and,
 * with MySQL storage, the MariaDB node's /etc/lab/mariadb.env plus a boot hook on every member that
 * waits for the database, so that MariaDB is up before Nacos starts — also when a member is powered
 * on again later.
 */
import type { RenderedFile } from "./render-keepalived.ts";
import type { ResolvedNacos, ResolvedTopology } from "./resolve.ts";

export const NACOS_ENV = "/etc/lab/nacos.env";
export const MARIADB_ENV = "/etc/lab/mariadb.env";
/** Run by lab-boot before the node's daemons (images/base/rootfs/usr/local/sbin/lab-boot). */
export const ON_BOOT = "/etc/lab/on-boot.sh";
/** How long a member's boot waits for MariaDB before starting Nacos anyway (which then fails, saying why). */
export const DATABASE_WAIT_S = 120;

/** `KEY=VALUE` lines, taken literally by the image (like `docker run --env-file`). */
function envFile(path: string, comment: string, vars: Record<string, string>): RenderedFile {
  for (const [k, v] of Object.entries(vars)) {
    if (/[\n\r]/.test(v)) throw new Error(`${k} must be one line, got ${JSON.stringify(v)}`);
  }
  const lines = [`# ${comment}`, ...Object.entries(vars).map(([k, v]) => `${k}=${v}`)];
  return { path, content: `${lines.join("\n")}\n` };
}

/** Files of one Nacos member. */
export function renderNacosMember(t: ResolvedTopology, nodeName: string): RenderedFile[] {
  const n = requireNacos(t);
  const member = n.members.find((m) => m.name === nodeName);
  if (!member) throw new Error(`${nodeName} is not a Nacos member of lab ${t.name} (members: ${n.members.map((m) => m.name).join(", ")})`);
  const vars: Record<string, string> = {
    MODE: "cluster",
    NACOS_SERVERS: n.members.map((m) => `${m.address}:${n.httpPort}`).join(" "),
    NACOS_SERVER_IP: member.address,
    PREFER_HOST_MODE: "ip",
    NACOS_APPLICATION_PORT: String(n.httpPort),
    JVM_XMS: n.heap.xms,
    JVM_XMX: n.heap.xmx,
    JVM_XMN: n.heap.xmn,
  };
  if (n.storage === "mysql") {
    const db = n.db!;
    Object.assign(vars, {
      SPRING_DATASOURCE_PLATFORM: "mysql",
      MYSQL_SERVICE_HOST: n.database!.address,
      MYSQL_SERVICE_PORT: String(db.port),
      MYSQL_SERVICE_DB_NAME: db.name,
      MYSQL_SERVICE_USER: db.user,
      MYSQL_SERVICE_PASSWORD: db.password,
    });
  }
  const files = [envFile(NACOS_ENV, `Nacos settings of ${nodeName} (lab ${t.name}, ${n.storage} storage), rendered by failover-lab`, vars)];
  if (n.storage === "mysql") files.push(databaseWait(t, n));
  return files;
}

/** Files of the MariaDB node. */
export function renderMariadb(t: ResolvedTopology): RenderedFile[] {
  const n = requireNacos(t);
  const db = n.db;
  if (!db) throw new Error(`lab ${t.name} has no MariaDB node: its Nacos storage is ${n.storage}`);
  return [
    envFile(MARIADB_ENV, `MariaDB settings for Nacos' MySQL storage (lab ${t.name}), rendered by failover-lab`, {
      MARIADB_DATABASE: db.name,
      MARIADB_USER: db.user,
      MARIADB_PASSWORD: db.password,
      MARIADB_PORT: String(db.port),
    }),
  ];
}

/** Boot hook: wait (bounded) until MariaDB accepts TCP connections, so Nacos finds its database. */
function databaseWait(t: ResolvedTopology, n: ResolvedNacos): RenderedFile {
  const host = n.database!.address;
  const port = n.db!.port;
  return {
    path: ON_BOOT,
    mode: 0o755,
    content: [
      "#!/bin/bash",
      `# Boot hook of a Nacos member (lab ${t.name}), rendered by failover-lab: Nacos refuses to start`,
      `# without its database, so wait until MariaDB (${host}:${port}) accepts connections, at most ${DATABASE_WAIT_S} s.`,
      `for ((i = 0; i < ${DATABASE_WAIT_S * 5}; i++)); do`,
      `  if timeout 1 bash -c 'exec 3<>/dev/tcp/${host}/${port}' 2>/dev/null; then`,
      `    echo "on-boot: MariaDB ${host}:${port} accepts connections after $((i / 5)).$((i % 5 * 2)) s"`,
      "    exit 0",
      "  fi",
      "  sleep 0.2",
      "done",
      `echo "on-boot: MariaDB ${host}:${port} did not accept connections within ${DATABASE_WAIT_S} s; starting Nacos anyway" >&2`,
      "",
    ].join("\n"),
  };
}

function requireNacos(t: ResolvedTopology): ResolvedNacos {
  if (!t.nacos) throw new Error(`lab ${t.name} has no Nacos cluster (add \`nacos: { members: 3 }\` to its topology)`);
  return t.nacos;
}
