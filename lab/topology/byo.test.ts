import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseCidr } from "../ipv4.ts";
import { loadByoConfigs } from "./byo.ts";
import { resolveTopology } from "./resolve.ts";
import { validateTopology } from "./validate.ts";

/** The seed's director config, on one load balancer, with {{placeholders}} for the lab's addresses. */
const SEED_DIRECTOR = `global_defs {
   router_id LVS_136
}
vrrp_instance VI_1 {
    state MASTER
    interface {{interface}}
    virtual_router_id 51
    priority 100
    advert_int 1
    virtual_ipaddress {
        {{host:150}}
    }
}
virtual_server {{host:150}} 80{
    delay_loop 6
    lb_algo rr
    lb_kind DR
    persistence_timeout 5
    protocol TCP
    real_server {{host:21}} 80{
        weight 1
        TCP_CHECK {
            connect_port 80
            connect_timeout 2
            nb_get_retry 2
            delay_before_retry 3
        }
    }
    real_server {{host:22}} 80{
        HTTP_GET {
            url {
              path /
              status_code 200
            }
            nb_get_retry 2
        }
    }
}
`;

describe("bring-your-own keepalived.conf: nb_get_retry", () => {
  it("inside TCP_CHECK it is no keyword at all (ignored: retry stays 1); inside HTTP_GET it is the deprecated name of retry", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fl-byo-"));
    try {
      await writeFile(join(dir, "lb1.conf"), SEED_DIRECTOR);
      const t = resolveTopology(validateTopology({ name: "x", lb: { lb1: {} }, keepalived: { config: { lb1: "lb1.conf" } } }), parseCidr("10.213.0.0/24")!);
      const { warnings, files } = await loadByoConfigs(t, dir);
      expect(files.get("lb1")?.[0]?.content).toContain("virtual_server 10.213.0.150 80{");
      expect(warnings).toEqual([
        expect.stringMatching(/^lb1\.conf:25: nb_get_retry is not a keyword of TCP_CHECK .*keepalived ignores it, so the checker keeps retry 1/),
        expect.stringMatching(/^lb1\.conf:35: nb_get_retry is the old name; current keepalived calls it `retry`/),
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
