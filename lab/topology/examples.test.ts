/**
 * The topology files in examples/ are what the README tells people to copy: each must load,
 * validate and render the keepalived.conf its comments promise.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseCidr } from "../ipv4.ts";
import { loadTopologyFile } from "./load.ts";
import { renderKeepalived } from "./render-keepalived.ts";
import { resolveTopology } from "./resolve.ts";

const EXAMPLES = join(import.meta.dirname, "../../examples");
const SUBNET = parseCidr("10.213.9.0/24")!;
const files = readdirSync(EXAMPLES).filter((f) => f.endsWith(".lab.yml"));

async function keepalivedConfs(file: string): Promise<Map<string, string>> {
  const t = resolveTopology((await loadTopologyFile(join(EXAMPLES, file))).topology, SUBNET);
  const confs = new Map<string, string>();
  const members = new Set(t.vrrp.instances.flatMap((i) => i.members.map((m) => m.node)));
  for (const name of members) {
    const conf = renderKeepalived(t, name).find((f) => f.path.endsWith("keepalived.conf"));
    if (conf) confs.set(name, conf.content);
  }
  return confs;
}

describe("examples/*.lab.yml", () => {
  it("there are examples to check", () => {
    expect(files).toEqual(expect.arrayContaining(["pair.lab.yml", "lvs-dr.lab.yml", "nacos.lab.yml"]));
  });

  it.each(files)("%s loads, validates and renders a keepalived.conf per VRRP member", async (file) => {
    const confs = await keepalivedConfs(file);
    expect(confs.size).toBeGreaterThan(0);
    for (const conf of confs.values()) expect(conf).toMatch(/vrrp_instance \S+ \{/);
  });

  it("lvs-dr.lab.yml: both directors carry the document's virtual_server (DR, rr, persistence 5, TCP_CHECK)", async () => {
    const confs = await keepalivedConfs("lvs-dr.lab.yml");
    for (const name of ["lvs1", "lvs2"]) {
      const conf = confs.get(name)!;
      expect(conf).toContain("lb_kind DR");
      expect(conf).toContain("lb_algo rr");
      expect(conf).toContain("persistence_timeout 5");
      expect(conf).toContain("TCP_CHECK");
      expect(conf).not.toMatch(/^\s*nb_get_retry\b/m);
      expect(conf).toMatch(/^\s*retry 1\b/m);
    }
  });
});
