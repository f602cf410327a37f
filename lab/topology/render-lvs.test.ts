import { describe, expect, it } from "vitest";
import { parseCidr } from "../ipv4.ts";
import { topologyNeeds } from "../lab.ts";
import { director } from "../nodes/director.ts";
import { loadBalancer } from "../nodes/load-balancer.ts";
import { webServer } from "../nodes/web-server.ts";
import { renderKeepalived } from "./render-keepalived.ts";
import { directorSysctls, realServerSetup } from "./render-lvs.ts";
import { resolveTopology } from "./resolve.ts";
import type { TopologyInput } from "./schema.ts";
import { topologyIssues } from "./topology-issues.ts";
import { validateTopology } from "./validate.ts";

const SUBNET = parseCidr("10.213.9.0/24")!;
const resolve = (input: TopologyInput) => resolveTopology(validateTopology(input), SUBNET);
const conf = (input: TopologyInput, node: string) => renderKeepalived(resolve(input), node).find((f) => f.path.endsWith("keepalived.conf"))!.content;

const issuesOf = topologyIssues;

/** The seed document's full stack: two directors, the nginx pair as real servers, two web backends. */
const SEED: TopologyInput = {
  name: "seed",
  director: { lvs1: {}, lvs2: {} },
  lb: { nginx1: {}, nginx2: {} },
  lvs: { persistenceTimeout: 5 },
};

describe("the LVS tier: resolving", () => {
  it("places directors at .51+, the VIP at .150, a client at .5; the nginx pair are the real servers; VRRP runs on the directors only", () => {
    const t = resolve(SEED);
    expect(t.nodes.map((n) => `${n.name}=${n.address}`)).toEqual([
      "lvs1=10.213.9.51",
      "lvs2=10.213.9.52",
      "nginx1=10.213.9.11",
      "nginx2=10.213.9.12",
      "web1=10.213.9.21",
      "web2=10.213.9.22",
      "client=10.213.9.5",
    ]);
    expect(t.lvs!.vip).toBe("10.213.9.150");
    expect(t.lvs!.realServers.map((r) => `${r.node}=${r.address}:${r.port}`)).toEqual(["nginx1=10.213.9.11:80", "nginx2=10.213.9.12:80"]);
    expect(t.vrrp.instances).toHaveLength(1);
    expect(t.vrrp.instances[0]).toMatchObject({ name: "VI_1", vrid: 51, vips: ["10.213.9.150"], members: [{ node: "lvs1", priority: 100, state: "MASTER" }, { node: "lvs2", priority: 50, state: "BACKUP" }] });
    expect(t.clientSources).toEqual(["10.213.9.6", "10.213.9.7", "10.213.9.8", "10.213.9.9"]);
    expect(topologyNeeds(validateTopology(SEED))).toEqual(["ipvs"]);
    expect(topologyNeeds(validateTopology({ name: "pair" }))).toEqual([]);
  });

  it("without load balancers the web nodes are the real servers", () => {
    const t = resolve({ name: "dr", lb: {}, director: { lvs1: {} }, lvs: {} });
    expect(t.lvs!.realServers.map((r) => r.node)).toEqual(["web1", "web2"]);
  });
});

describe("the LVS tier: keepalived.conf of a director", () => {
  it("renders the seed's virtual_server with `retry`, never nb_get_retry", () => {
    const c = conf(SEED, "lvs1");
    expect(c).toMatch(/vrrp_instance VI_1 \{\n\s+state MASTER\n\s+interface eth0\n\s+virtual_router_id 51\n\s+priority 100/);
    expect(c).toContain("10.213.9.150/24 dev eth0");
    expect(c).toMatch(/virtual_server 10\.213\.9\.150 80 \{\n\s+delay_loop 6\n\s+lb_algo rr\n\s+lb_kind DR\n\s+persistence_timeout 5\n\s+protocol TCP/);
    expect(c).toMatch(/real_server 10\.213\.9\.11 80 \{[^\n]*\n\s+weight 1\n\s+TCP_CHECK \{\n\s+connect_port 80\n\s+connect_timeout 2\n\s+retry 1\b[^\n]*\n\s+delay_before_retry 3/);
    expect(c).toContain("real_server 10.213.9.12 80");
    expect(c).not.toMatch(/^\s*nb_get_retry/m);
    expect(conf(SEED, "lvs2")).toMatch(/state BACKUP\n[\s\S]*priority 50/);
  });

  it("renders NAT, HTTP_GET with its url block, and weights", () => {
    const c = conf({ name: "nat", lb: {}, director: { lvs1: {} }, lvs: { mode: "NAT", algo: "wrr", realServers: [{ node: "web1", weight: 3 }, { node: "web2" }], check: { type: "HTTP_GET", path: "/health", statusCode: 204, retry: 2 } } }, "lvs1");
    expect(c).toContain("lb_kind NAT");
    expect(c).toContain("lb_algo wrr");
    expect(c).not.toContain("persistence_timeout");
    expect(c).toMatch(/weight 3\n\s+HTTP_GET \{\n\s+url \{\n\s+path \/health\n\s+status_code 204\n\s+\}/);
    expect(c).toMatch(/retry 2\b/);
  });
});

describe("the LVS tier: what the nodes get", () => {
  it("DR real servers: the VIP on lo at every boot, arp_ignore 1 / arp_announce 2 as the seed sets them; nginx only", () => {
    const t = resolve(SEED);
    const files = new Map([["nginx1", [...renderKeepalived(t, "nginx1"), ...realServerSetup(t, "nginx1").files]]]);
    const spec = loadBalancer.spec(t, t.nodes.find((n) => n.name === "nginx1")!, files);
    expect(spec.boot).toEqual(["nginx"]);
    expect(spec.sysctls).toMatchObject({ "net.ipv4.ip_forward": "0", "net.ipv4.conf.all.arp_ignore": "1", "net.ipv4.conf.lo.arp_ignore": "1", "net.ipv4.conf.all.arp_announce": "2", "net.ipv4.conf.lo.arp_announce": "2" });
    const hook = spec.files!.find((f) => f.path === "/etc/lab/on-boot.sh")!;
    expect(hook.mode).toBe(0o755);
    expect(hook.content).toContain("ip addr replace 10.213.9.150/32 dev lo");
    expect(realServerSetup(t, "web1")).toEqual({ files: [], sysctls: {} });
  });

  it("NAT: real servers route the clients through the VIP and take no redirects; directors forward and send none", () => {
    const t = resolve({ name: "nat", lb: {}, director: { lvs1: {}, lvs2: {} }, lvs: { mode: "NAT" } });
    const web = webServer.spec(t, t.nodes.find((n) => n.name === "web1")!, new Map([["web1", realServerSetup(t, "web1").files]]));
    const hook = web.files!.find((f) => f.path === "/etc/lab/on-boot.sh")!.content;
    expect(hook).toContain("ip route replace 10.213.9.1/32 via 10.213.9.150 dev eth0");
    expect(hook).toContain("ip route replace 10.213.9.5/32 via 10.213.9.150 dev eth0");
    expect(hook).toContain("ip route replace 10.213.9.9/32 via 10.213.9.150 dev eth0");
    expect(web.sysctls).toMatchObject({ "net.ipv4.conf.all.accept_redirects": "0", "net.ipv4.conf.eth0.accept_redirects": "0" });
    const d = director.spec(t, t.nodes.find((n) => n.name === "lvs1")!, new Map());
    expect(d).toMatchObject({ image: "lb", boot: ["keepalived"] });
    expect(d.sysctls).toMatchObject({ "net.ipv4.ip_forward": "1", "net.ipv4.conf.all.send_redirects": "0", "net.ipv4.conf.eth0.send_redirects": "0" });
    expect(directorSysctls(resolve(SEED))).toEqual({});
    expect(director.configChecks().map((c) => c.name)).toEqual(["keepalived --config-test"]);
  });
});

describe("the LVS tier: validation, field by field", () => {
  it("directors need an lvs section, and an lvs section needs directors", () => {
    expect(issuesOf({ name: "x", director: { lvs1: {} } })).toEqual([expect.objectContaining({ path: "lvs", message: expect.stringContaining("is required with directors") })]);
    expect(issuesOf({ name: "x", lvs: {} })).toContainEqual(expect.objectContaining({ path: "director" }));
  });

  it("real servers must be web or load balancer nodes, once each, on the virtual service's port", () => {
    const issues = issuesOf({ name: "x", lb: {}, director: { lvs1: {} }, lvs: { port: 8080, realServers: [{ node: "web1" }, { node: "web1" }, { node: "lvs1" }, { node: "db" }] } });
    expect(issues).toContainEqual(expect.objectContaining({ path: "lvs.realServers.1.node", message: '"web1" is listed twice' }));
    expect(issues).toContainEqual(expect.objectContaining({ path: "lvs.realServers.2.node", message: expect.stringContaining("is a director") }));
    expect(issues).toContainEqual(expect.objectContaining({ path: "lvs.realServers.3.node", message: '"db" is not a web or load balancer node' }));
    expect(issues).toContainEqual(expect.objectContaining({ path: "lvs.port", message: expect.stringContaining("serves port 80 only") }));
  });

  it("checker options: the current names, in range; HTTP_GET-only fields only with HTTP_GET", () => {
    const issues = issuesOf({ name: "x", director: { lvs1: {} }, lvs: { check: { type: "TCP_CHECK", retry: -1, delayLoop: 0, path: "/" } } });
    expect(issues).toContainEqual(expect.objectContaining({ path: "lvs.check.retry", message: expect.stringContaining("at least 0") }));
    expect(issues).toContainEqual(expect.objectContaining({ path: "lvs.check.delayLoop" }));
    const http = issuesOf({ name: "x", director: { lvs1: {} }, lvs: { check: { path: "/" } } });
    expect(http).toEqual([expect.objectContaining({ path: "lvs.check.path", message: "is only used with type HTTP_GET" })]);
    const old = issuesOf({ name: "x", director: { lvs1: {} }, lvs: { check: { nb_get_retry: 2 } } });
    expect(old).toEqual([expect.objectContaining({ path: "lvs.check.nb_get_retry", fix: expect.stringContaining("`retry`") })]);
    const habit = issuesOf({ name: "x", director: { lvs1: {} }, lvs: { lb_kind: "DR" } });
    expect(habit).toEqual([expect.objectContaining({ path: "lvs.lb_kind", fix: "write lvs.mode: DR or NAT" })]);
  });

  it("mode, algo, VRRP priorities of directors only, and one VRID per network", () => {
    const issues = issuesOf({
      name: "x",
      director: { lvs1: {}, lvs2: {} },
      lvs: { mode: "TUN", algo: "random", vrrp: { priorities: { lvs1: 100, lb1: 50 } } },
    });
    expect(issues).toContainEqual(expect.objectContaining({ path: "lvs.mode", message: expect.stringContaining('"DR", "NAT"') }));
    expect(issues).toContainEqual(expect.objectContaining({ path: "lvs.algo" }));
    const prio = issuesOf({ name: "x", director: { lvs1: {}, lvs2: {} }, lvs: { vrrp: { priorities: { lvs1: 100, lb1: 50 } } } });
    expect(prio).toContainEqual(expect.objectContaining({ path: "lvs.vrrp.priorities.lb1", message: '"lb1" is not a director' }));
    expect(prio).toContainEqual(expect.objectContaining({ path: "lvs.vrrp.priorities", message: "director lvs2 has no priority" }));
    const vrid = issuesOf({ name: "x", director: { lvs1: {} }, lvs: {}, keepalived: { instances: { LB: { virtualRouterId: 51, priorities: { lb1: 100 } } } } });
    expect(vrid).toContainEqual(expect.objectContaining({ path: "keepalived.instances.LB.virtualRouterId", message: expect.stringContaining("the directors' instance VI_1") }));
  });

  it("addresses: directors and the VIP inside the subnet, never shared", () => {
    const issues = issuesOf({ name: "x", network: { subnet: "10.213.9.0/24" }, director: { lvs1: { address: 21 } }, lvs: { vip: "10.213.10.150" } });
    expect(issues).toContainEqual(expect.objectContaining({ path: "lvs.vip", message: expect.stringContaining("outside the lab subnet") }));
    const dup = issuesOf({ name: "x", director: { lvs1: { address: 150 } }, lvs: {} });
    expect(dup).toContainEqual(expect.objectContaining({ path: "lvs.vip", message: expect.stringContaining("already used by director.lvs1.address") }));
  });
});
