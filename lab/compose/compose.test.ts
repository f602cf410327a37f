import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { COMPOSE_SUBNET, renderCompose, staleCompose } from "./compose.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

describe("docker-compose.yml", () => {
  it("is what the lab renders now: the committed file and compose/ match (run `failover-lab compose` after changing the topology or its rendering)", async () => {
    expect(await staleCompose(ROOT)).toEqual([]);
  });

  it("is the default teaching topology: 2 lb + 2 web, fixed subnet, NET_ADMIN + NET_RAW only, ip_forward=0, the lab's images and labels", async () => {
    const files = await renderCompose();
    const doc = parse(files.find((f) => f.path === "docker-compose.yml")!.content);
    expect(doc.version).toBe("2.4");
    expect(Object.keys(doc.services)).toEqual(["lb1", "lb2", "web1", "web2"]);
    expect(doc.networks.lab.ipam.config).toEqual([{ subnet: COMPOSE_SUBNET, gateway: "10.212.0.1" }]);
    for (const [name, svc] of Object.entries<Record<string, unknown>>(doc.services)) {
      expect(svc.cap_add).toEqual(["NET_ADMIN", "NET_RAW"]);
      expect(svc).not.toHaveProperty("privileged");
      expect(svc.sysctls).toEqual({ "net.ipv4.ip_forward": "0" });
      expect(svc.image).toBe(name.startsWith("lb") ? "failover-lab/lb:latest" : "failover-lab/web:latest");
      expect(svc.labels).toMatchObject({ "io.failover-lab.managed": "true", "io.failover-lab.lab": "compose", "io.failover-lab.node": name });
    }
    expect(doc.services.lb1.networks.lab.ipv4_address).toBe("10.212.0.11");
    expect(doc.services.lb1.volumes).toContain("./compose/lb1/etc/keepalived/keepalived.conf:/etc/keepalived/keepalived.conf:ro");
    expect(doc.services.lb1.volumes).toContain("./compose/lb1/etc/lab/boot:/etc/lab/boot:ro");
    const conf = files.find((f) => f.path === "compose/lb1/etc/keepalived/keepalived.conf")!.content;
    expect(conf).toMatch(/virtual_ipaddress \{\s+10\.212\.0\.100\/24/);
    expect(conf).toMatch(/state MASTER/);
    expect(files.find((f) => f.path === "compose/lb1/etc/lab/boot")!.content).toBe("nginx\nkeepalived\n");
    for (const f of files.filter((x) => x.path.endsWith(".sh"))) expect(f.mode).toBe(0o755);
  });
});
