import { describe, expect, it } from "vitest";
import { TopologyError, type TopologyIssue } from "../errors.ts";
import { parseTopologyYaml } from "./load.ts";
import { topologyIssues } from "./topology-issues.ts";
import { validateTopology } from "./validate.ts";

const issuesOf = topologyIssues;

function yamlIssues(text: string): TopologyIssue[] {
  try {
    parseTopologyYaml(text, "bad.lab.yml");
  } catch (err) {
    if (err instanceof TopologyError) return err.issues;
    throw err;
  }
  return [];
}

describe("topology validation", () => {
  it("accepts the smallest topology and fills the defaults", () => {
    const t = validateTopology({ name: "pair" });
    expect(Object.keys(t.lb)).toEqual(["lb1", "lb2"]);
    expect(Object.keys(t.web)).toEqual(["web1", "web2"]);
    expect(t.keepalived.version).toBe(2);
    expect(t.nginx.mode).toBe("http");
  });

  it("rejects a VIP outside the subnet, naming the field and the fix", () => {
    const issues = issuesOf({
      name: "x",
      network: { subnet: "10.213.9.0/24" },
      keepalived: { instances: { VI_1: { virtualRouterId: 51, vips: ["10.213.10.100"], priorities: { lb1: 100, lb2: 90 } } } },
    });
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe("keepalived.instances.VI_1.vips.0");
    expect(issues[0]!.message).toBe("10.213.10.100 is outside the lab subnet 10.213.9.0/24");
    expect(issues[0]!.fix).toMatch(/inside 10.213.9.0\/24/);
  });

  it("rejects two instances with one VRID on one network", () => {
    const issues = issuesOf({
      name: "x",
      keepalived: {
        instances: {
          VI_1: { virtualRouterId: 51, vips: [100], priorities: { lb1: 100, lb2: 90 } },
          VI_2: { virtualRouterId: 51, vips: [101], priorities: { lb1: 90, lb2: 100 } },
        },
      },
    });
    expect(issues.map((i) => i.path)).toEqual(["keepalived.instances.VI_2.virtualRouterId"]);
    expect(issues[0]!.message).toContain("already used by VI_1");
  });

  it("rejects an auth_pass longer than the 8 characters keepalived keeps", () => {
    const issues = issuesOf({
      name: "x",
      keepalived: { instances: { VI_1: { virtualRouterId: 51, priorities: { lb1: 100, lb2: 90 }, auth: { type: "PASS", pass: "123456789" } } } },
    });
    expect(issues.map((i) => [i.path, i.fix])).toEqual([["keepalived.instances.VI_1.auth.pass", "use at most 8 characters"]]);
  });

  it("rejects nopreempt with state MASTER, and defaults every node to BACKUP with nopreempt", () => {
    const issues = issuesOf({
      name: "x",
      keepalived: { instances: { VI_1: { virtualRouterId: 51, priorities: { lb1: 100, lb2: 90 }, nopreempt: true, states: { lb1: "MASTER", lb2: "BACKUP" } } } },
    });
    expect(issues.map((i) => i.path)).toEqual(["keepalived.instances.VI_1.states.lb1"]);
    expect(issues[0]!.message).toMatch(/nopreempt only works with state BACKUP/);
    expect(issuesOf({ name: "x", keepalived: { instances: { VI_1: { virtualRouterId: 51, priorities: { lb1: 100, lb2: 90 }, nopreempt: true } } } })).toEqual([]);
  });

  it("rejects a sub-second advert_int with VRRP version 2 and accepts it with version 3", () => {
    const inst = { VI_1: { virtualRouterId: 51, priorities: { lb1: 100, lb2: 90 }, advertInt: 0.1 } };
    const issues = issuesOf({ name: "x", keepalived: { instances: inst } });
    expect(issues.map((i) => i.path)).toEqual(["keepalived.instances.VI_1.advertInt"]);
    expect(issues[0]!.fix).toMatch(/version: 3/);
    expect(issuesOf({ name: "x", keepalived: { version: 3, instances: inst } })).toEqual([]);
  });

  it("rejects an unknown field and suggests the right one", () => {
    const issues = issuesOf({ name: "x", nginx: { lisen: 88 } });
    expect(issues).toEqual([{ path: "nginx.lisen", message: "unknown field `lisen`", fix: "did you mean `listen`?" }]);
  });

  it("explains fields people bring from the tutorials", () => {
    const issues = issuesOf({ name: "x", nginx: { upstream: { servers: [{ node: "web1", slow_start: "30s" }] } } });
    expect(issues[0]!.path).toBe("nginx.upstream.servers.0.slow_start");
    expect(issues[0]!.fix).toMatch(/NGINX Plus/);
  });

  it("lists every problem at once", () => {
    const issues = issuesOf({ name: "Bad Name", lb: { lb1: {} }, web: {}, keepalived: { instances: { VI_1: { virtualRouterId: 300, priorities: { lb9: 100 } } } } });
    expect(issues.map((i) => i.path).sort()).toEqual(["keepalived.instances.VI_1.virtualRouterId", "name"]);
  });

  it("checks references between fields: unknown nodes, scripts, hash keys", () => {
    const issues = issuesOf({
      name: "x",
      nginx: { upstream: { balance: "hash", servers: [{ node: "web7" }] } },
      keepalived: { instances: { VI_1: { virtualRouterId: 51, priorities: { lb1: 100, lb3: 90 }, track: ["chk"] } } },
    });
    expect(issues.map((i) => i.path).sort()).toEqual([
      "keepalived.instances.VI_1.priorities.lb3",
      "keepalived.instances.VI_1.track",
      "nginx.upstream.hashKey",
      "nginx.upstream.servers.0.node",
    ]);
  });

  it("rejects addresses used twice and the gateway", () => {
    const issues = issuesOf({ name: "x", network: { subnet: "10.213.9.0/24" }, lb: { lb1: { address: "10.213.9.1" }, lb2: { address: 30 } }, web: { web1: { address: 30 } } });
    expect(issues.map((i) => i.path).sort()).toEqual(["lb.lb1.address", "web.web1.address"]);
  });
});

describe("topology YAML", () => {
  it("names the line of a bad field", () => {
    const issues = yamlIssues(["name: pair", "nginx:", "  listen: 80", "  lisen: 88", ""].join("\n"));
    expect(issues[0]).toMatchObject({ path: "nginx.lisen", file: "bad.lab.yml", line: 4 });
  });

  it("names the line of a bad value", () => {
    const text = ["name: pair", "keepalived:", "  instances:", "    VI_1:", "      virtualRouterId: 51", "      priorities: { lb1: 100, lb2: 90 }", "      auth: { type: PASS, pass: '123456789' }", ""].join("\n");
    expect(yamlIssues(text)[0]).toMatchObject({ path: "keepalived.instances.VI_1.auth.pass", line: 7 });
  });

  it("reports YAML syntax errors with their line", () => {
    const issues = yamlIssues("name: pair\nlb: [\n");
    expect(issues[0]!.path).toBe("(yaml)");
    expect(issues[0]!.line).toBeGreaterThanOrEqual(2);
  });

  it("rejects a document that is not a mapping", () => {
    expect(yamlIssues("- a\n- b\n")[0]!.message).toMatch(/must be a YAML mapping/);
  });

  it("refuses alias bombs", () => {
    const bomb = ["a: &a [x, x, x, x, x, x, x, x, x, x]", ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`)].join("\n");
    expect(yamlIssues(bomb)[0]!.path).toBe("(yaml)");
  });
});

describe("nacos section", () => {
  it("fills the defaults: 3 members, embedded storage, the lab's heap sizes", () => {
    const t = validateTopology({ name: "n", web: {}, nacos: {} });
    expect(t.nacos).toEqual({
      members: 3,
      storage: "embedded",
      heap: { xms: "256m", xmx: "512m", xmn: "128m" },
      proxy: { nextUpstream: ["error", "timeout", "http_502", "http_503", "http_504"], connectTimeout: "1s", readTimeout: "10s", maxFails: 1, failTimeout: "10s" },
    });
  });

  it("lets a Nacos topology have no web backend, but not a topology without either", () => {
    expect(issuesOf({ name: "n", web: {}, nacos: { members: 3 } })).toEqual([]);
    expect(issuesOf({ name: "n", web: {} }).map((i) => i.path)).toEqual(["web"]);
  });

  it("checks fields with their paths: storage, members, heap sizes", () => {
    const bad = issuesOf({ name: "n", nacos: { storage: "postgres", members: 9 } });
    expect(bad.map((i) => i.path)).toEqual(["nacos.members", "nacos.storage"]);
    expect(bad[0]!.message).toMatch(/^must be at most 7/);
    expect(bad[1]!.message).toMatch(/^must be one of "embedded", "mysql"/);
    expect(issuesOf({ name: "n", nacos: { heap: { xmx: "512" } } }).map((i) => [i.path, i.message])).toEqual([["nacos.heap.xmx", 'must be a JVM size like "512m" or "1g"']]);
    const heap = issuesOf({ name: "n", web: {}, nacos: { heap: { xms: "1g", xmx: "512m", xmn: "512m" } } });
    expect(heap.map((i) => i.path)).toEqual(["nacos.heap.xms", "nacos.heap.xmn"]);
    expect(heap[0]!.message).toBe("initial heap 1g is larger than the maximum 512m");
    expect(issuesOf({ name: "n", nacos: { memebrs: 3 } })).toEqual([{ path: "nacos.memebrs", message: "unknown field `memebrs`", fix: "did you mean `members`?" }]);
  });

  it("keeps the members' names, addresses and ports for them", () => {
    const issues = issuesOf({
      name: "n",
      network: { subnet: "10.213.9.0/24" },
      lb: { lb1: {}, nacos2: {} },
      web: { web1: { address: 32 } },
      nginx: { listen: 8848 },
      nacos: { storage: "mysql" },
      keepalived: { instances: { VI_1: { virtualRouterId: 51, vips: ["10.213.9.40"], priorities: { lb1: 100, nacos2: 90 } } } },
    });
    expect(issues.map((i) => i.path)).toEqual(["lb.nacos2", "web.web1.address", "keepalived.instances.VI_1.vips.0", "nginx.listen"]);
    expect(issues[1]!.message).toBe("address .32 belongs to Nacos node nacos2");
    expect(issues[2]!.message).toBe("address .40 belongs to Nacos node mariadb");
  });

  it("reads a Nacos topology from YAML, naming the line of a bad field", () => {
    const t = parseTopologyYaml(["name: nacos", "web: {}", "nacos:", "  members: 3", "  storage: mysql", ""].join("\n"));
    expect(t.nacos).toMatchObject({ members: 3, storage: "mysql" });
    expect(yamlIssues(["name: nacos", "nacos:", "  members: 3", "  storage: sqlite", ""].join("\n"))[0]).toMatchObject({ path: "nacos.storage", line: 4 });
  });
});
