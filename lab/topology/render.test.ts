import { describe, expect, it } from "vitest";
import { parseCidr } from "../ipv4.ts";
import { renderKeepalived } from "./render-keepalived.ts";
import { renderMariadb, renderNacosMember } from "./render-nacos.ts";
import { renderNginx } from "./render-nginx.ts";
import { resolveTopology } from "./resolve.ts";
import { validateTopology } from "./validate.ts";
import type { TopologyInput } from "./schema.ts";

const SUBNET = parseCidr("10.213.9.0/24")!;
const resolve = (input: TopologyInput) => resolveTopology(validateTopology(input), SUBNET);
const conf = (input: TopologyInput, node: string) => renderKeepalived(resolve(input), node).find((f) => f.path.endsWith("keepalived.conf"))!.content;

describe("resolving addresses", () => {
  it("places load balancers at .11+, web nodes at .21+, the client at .5 and the VIP at .100", () => {
    const t = resolve({ name: "pair", client: true });
    expect(t.nodes.map((n) => `${n.name}=${n.address}`)).toEqual(["lb1=10.213.9.11", "lb2=10.213.9.12", "web1=10.213.9.21", "web2=10.213.9.22", "client=10.213.9.5"]);
    expect(t.vrrp.instances[0]!.vips).toEqual(["10.213.9.100"]);
    expect(t.vrrp.instances[0]!.members).toEqual([
      { node: "lb1", priority: 100, state: "MASTER" },
      { node: "lb2", priority: 90, state: "BACKUP" },
    ]);
  });
});

describe("keepalived.conf", () => {
  it("renders the tutorials' master/backup pair", () => {
    const input: TopologyInput = {
      name: "pair",
      keepalived: {
        scripts: { chk_nginx: { check: "nginx-running", interval: 2, weight: -20, fall: 3, rise: 2 } },
        instances: { VI_1: { virtualRouterId: 51, vips: [100], priorities: { lb1: 100, lb2: 90 }, auth: { type: "PASS", pass: "1111" }, track: ["chk_nginx"] } },
      },
    };
    const master = conf(input, "lb1");
    expect(master).toContain("router_id lb1");
    expect(master).toContain("vrrp_version 2");
    expect(master).toMatch(/vrrp_script chk_nginx \{\n\s+script "\/etc\/keepalived\/chk_nginx.sh"\n\s+interval 2\n\s+fall 3\n\s+rise 2\n\s+weight -20/);
    expect(master).toMatch(/state MASTER\n\s+interface eth0\n\s+virtual_router_id 51\n\s+priority 100\n\s+advert_int 1\n/);
    expect(master).toMatch(/auth_type PASS\n\s+auth_pass 1111/);
    expect(master).toContain("10.213.9.100/24 dev eth0");
    expect(master).toMatch(/track_script \{\n\s+chk_nginx\n/);
    expect(conf(input, "lb2")).toMatch(/state BACKUP[\s\S]*priority 90/);
    const script = renderKeepalived(resolve(input), "lb1").find((f) => f.path === "/etc/keepalived/chk_nginx.sh")!;
    expect(script.mode).toBe(0o755);
    expect(script.content).toContain("pgrep -x nginx");
  });

  it("renders VRRPv3 sub-second adverts without an authentication block", () => {
    const c = conf({ name: "fast", keepalived: { version: 3, instances: { VI_1: { virtualRouterId: 9, advertInt: 0.1, priorities: { lb1: 100, lb2: 90 }, auth: { type: "PASS", pass: "x" } } } } }, "lb2");
    expect(c).toContain("vrrp_version 3");
    expect(c).toContain("advert_int 0.1\n");
    expect(c).not.toContain("auth_pass");
  });

  it("renders unicast peers, nopreempt and preempt_delay", () => {
    const c = conf(
      { name: "u", keepalived: { instances: { VI_1: { virtualRouterId: 9, priorities: { lb1: 100, lb2: 90 }, unicast: true, nopreempt: true, preemptDelay: 5 } } } },
      "lb1",
    );
    expect(c).toMatch(/state BACKUP/);
    expect(c).toContain("nopreempt");
    expect(c).toContain("preempt_delay 5");
    expect(c).toMatch(/unicast_src_ip 10.213.9.11\n\s+unicast_peer \{\n\s+10.213.9.12\n\s+\}/);
  });

  it("renders dual-master: each node MASTER of one instance", () => {
    const input: TopologyInput = {
      name: "dual",
      keepalived: {
        instances: {
          VI_1: { virtualRouterId: 51, vips: [100], priorities: { lb1: 100, lb2: 90 } },
          VI_2: { virtualRouterId: 52, vips: [101], priorities: { lb1: 90, lb2: 100 } },
        },
      },
    };
    const lb1 = conf(input, "lb1");
    expect(lb1).toMatch(/vrrp_instance VI_1 \{\n\s+state MASTER/);
    expect(lb1).toMatch(/vrrp_instance VI_2 \{\n\s+state BACKUP/);
    expect(conf(input, "lb2")).toMatch(/vrrp_instance VI_2 \{\n\s+state MASTER/);
  });

  it("renders the tutorials' restart-or-stop script", () => {
    const files = renderKeepalived(resolve({ name: "r", keepalived: { scripts: { chk: { check: "restart-nginx-or-stop-keepalived" } }, instances: { VI_1: { virtualRouterId: 1, priorities: { lb1: 100, lb2: 90 }, track: ["chk"] } } } }), "lb1");
    const script = files.find((f) => f.path.endsWith("chk.sh"))!.content;
    expect(script).toContain("nginx 2>>");
    expect(script).toContain("sleep 2");
    expect(script).toContain("pkill -TERM -x keepalived");
    expect(script).toContain('echo "$EPOCHREALTIME chk: nginx is not running; starting it"');
    expect(script.trim().endsWith("exit 0")).toBe(true);
  });
});

describe("nginx.conf", () => {
  it("renders an L7 proxy with upstream options and a header naming the load balancer", () => {
    const t = resolve({
      name: "l7",
      nginx: {
        upstream: { balance: "least_conn", servers: [{ node: "web1", weight: 3, maxFails: 2, failTimeout: "10s", maxConns: 100 }, { node: "web2", backup: true }] },
        proxy: { nextUpstream: ["error", "timeout", "http_502"], connectTimeout: "500ms" },
      },
    });
    const c = renderNginx(t, "lb1").content;
    expect(c).toMatch(/upstream backends \{\n\s+least_conn;\n\s+server 10.213.9.21:80 weight=3 max_fails=2 fail_timeout=10s max_conns=100;\n\s+server 10.213.9.22:80 backup;/);
    expect(c).toContain("proxy_next_upstream error timeout http_502;");
    expect(c).toContain("proxy_connect_timeout 500ms;");
    expect(c).toContain("add_header X-Lab-LB $hostname always;");
    expect(c).toContain("listen 80 default_server;");
  });

  it("renders an L4 stream proxy on port 88, as in the tutorial", () => {
    const c = renderNginx(resolve({ name: "l4", nginx: { mode: "stream", listen: 88 } }), "lb1").content;
    expect(c).toMatch(/stream \{\n\s+upstream backends \{\n\s+server 10.213.9.21:80;\n\s+server 10.213.9.22:80;\n\s+\}/);
    expect(c).toContain("listen 88;");
    expect(c).toContain("proxy_pass backends;");
    expect(c).not.toContain("http {");
  });

  it("renders hash and ip_hash balancing", () => {
    expect(renderNginx(resolve({ name: "h", nginx: { upstream: { balance: "hash", hashKey: "$request_uri", consistent: true } } }), "lb1").content).toContain("hash $request_uri consistent;");
    expect(renderNginx(resolve({ name: "h", nginx: { upstream: { balance: "ip_hash" } } }), "lb1").content).toContain("ip_hash;");
  });
});

describe("a Nacos cluster", () => {
  const nacos = (storage: "embedded" | "mysql") => resolve({ name: "nacos", web: {}, nacos: { members: 3, storage } });

  it("places the members at .31+ and MariaDB at .40", () => {
    expect(nacos("mysql").nodes.map((n) => `${n.name}=${n.address}=${n.kind}`)).toEqual([
      "lb1=10.213.9.11=lb",
      "lb2=10.213.9.12=lb",
      "mariadb=10.213.9.40=mariadb",
      "nacos1=10.213.9.31=nacos",
      "nacos2=10.213.9.32=nacos",
      "nacos3=10.213.9.33=nacos",
    ]);
    expect(nacos("embedded").nacos!.database).toBeUndefined();
  });

  it("renders each member's nacos.env with the official image's variables", () => {
    const env = renderNacosMember(nacos("embedded"), "nacos2")[0]!;
    expect(env.path).toBe("/etc/lab/nacos.env");
    expect(env.content).toContain("MODE=cluster\nNACOS_SERVERS=10.213.9.31:8848 10.213.9.32:8848 10.213.9.33:8848\nNACOS_SERVER_IP=10.213.9.32\n");
    expect(env.content).toContain("JVM_XMS=256m\nJVM_XMX=512m\nJVM_XMN=128m\n");
    expect(env.content).not.toContain("SPRING_DATASOURCE_PLATFORM");
    expect(renderNacosMember(nacos("embedded"), "nacos2")).toHaveLength(1);
  });

  it("with MySQL storage, points the members at MariaDB and makes their boot wait for it", () => {
    const t = nacos("mysql");
    const [env, hook] = renderNacosMember(t, "nacos1");
    expect(env!.content).toContain("SPRING_DATASOURCE_PLATFORM=mysql\nMYSQL_SERVICE_HOST=10.213.9.40\nMYSQL_SERVICE_PORT=3306\nMYSQL_SERVICE_DB_NAME=nacos\nMYSQL_SERVICE_USER=nacos\n");
    expect(hook).toMatchObject({ path: "/etc/lab/on-boot.sh", mode: 0o755 });
    expect(hook!.content).toContain("/dev/tcp/10.213.9.40/3306");
    expect(renderMariadb(t)[0]!.content).toContain("MARIADB_DATABASE=nacos\nMARIADB_USER=nacos\nMARIADB_PASSWORD=nacos-lab\nMARIADB_PORT=3306\n");
    expect(() => renderMariadb(nacos("embedded"))).toThrow(/no MariaDB node/);
  });

  it("proxies HTTP 8848 through an http upstream and gRPC 9848 through a stream upstream, without web backends", () => {
    const c = renderNginx(nacos("embedded"), "lb1").content;
    expect(c).not.toContain("backends");
    expect(c).toMatch(/http \{\n    access_log off;\n    keepalive_timeout 65;\n    # Nacos open API/);
    expect(c).toContain("    upstream nacos {\n        server 10.213.9.31:8848 max_fails=1 fail_timeout=10s;\n        server 10.213.9.32:8848");
    expect(c).toContain("listen 8848;");
    expect(c).toContain("proxy_set_header Host $host;");
    expect(c).toContain("add_header X-Lab-Upstream $upstream_addr always;");
    expect(c).toContain("proxy_next_upstream error timeout http_502 http_503 http_504;");
    expect(c).toMatch(/stream \{\n    # Nacos client gRPC[^\n]*\n    upstream nacos-grpc \{\n        server 10.213.9.31:9848/);
    expect(c).toContain("listen 9848;\n        proxy_pass nacos-grpc;");
    // Nacos' Tomcat rejects a Host with an underscore: no upstream name may carry one.
    expect(c.match(/upstream (\S+) \{/g)!.every((u) => !u.includes("_"))).toBe(true);
  });

  it("keeps the web backends next to Nacos, in their own mode", () => {
    const http = renderNginx(resolve({ name: "both", nacos: {} }), "lb1").content;
    expect(http).toMatch(/upstream backends[\s\S]*listen 80 default_server[\s\S]*upstream nacos \{[\s\S]*\n\}\n\nstream \{\n    # Nacos client gRPC/);
    const stream = renderNginx(resolve({ name: "both", nginx: { mode: "stream", listen: 88 }, nacos: {} }), "lb1").content;
    expect(stream).toMatch(/stream \{\n    upstream backends[\s\S]*listen 88;[\s\S]*upstream nacos-grpc/);
    expect(stream).toMatch(/http \{[\s\S]*upstream nacos \{/);
  });
});
