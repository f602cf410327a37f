import { describe, expect, it } from "vitest";
import { interpretIpvsProbe } from "./ipvs.ts";
import { parseList } from "./recipe.ts";

describe("interpretIpvsProbe", () => {
  it("reports a kernel built without IPVS and without modules (the measured CI machine)", () => {
    const r = interpretIpvsProbe(
      [
        "kernel=6.18.44-fc-v669",
        "ipvsadm_rc=2",
        "ipvsadm: Can't initialize ipvs: Protocol not available",
        "ipvsadm: Are you sure that IP Virtual Server is built in the kernel or as module?",
        "proc_ip_vs=no",
        "config: # CONFIG_MODULES is not set",
        "config: # CONFIG_IP_VS is not set",
      ].join("\n"),
    );
    expect(r.available).toBe(false);
    expect(r.kernelVersion).toBe("6.18.44-fc-v669");
    expect(r.reason).toBe(
      "kernel 6.18.44-fc-v669 is built without IPVS (CONFIG_IP_VS is not set) and cannot load modules (CONFIG_MODULES is not set)",
    );
    expect(r.ipvsadmOutput).toContain("Protocol not available");
  });

  it("tells to load the module when IPVS is a module that is not loaded", () => {
    const r = interpretIpvsProbe("kernel=6.1.0-56-cloud-amd64\nipvsadm_rc=2\nipvsadm: Can't initialize ipvs\nconfig: CONFIG_MODULES=y\nconfig: CONFIG_IP_VS=m\n");
    expect(r.available).toBe(false);
    expect(r.reason).toContain("modprobe ip_vs");
  });

  it("falls back to ipvsadm's own words when the kernel config is not readable", () => {
    const r = interpretIpvsProbe("kernel=5.15.0\nipvsadm_rc=2\nipvsadm: Can't initialize ipvs: Protocol not available\n");
    expect(r.reason).toBe("ipvsadm -Ln fails on kernel 5.15.0: Can't initialize ipvs: Protocol not available");
  });

  it("says available when ipvsadm -Ln works", () => {
    const r = interpretIpvsProbe("kernel=6.1.0-56-cloud-amd64\nipvsadm_rc=0\nipvsadm: IP Virtual Server version 1.2.1 (size=4096)\nproc_ip_vs=yes\n");
    expect(r).toMatchObject({ available: true, reason: "", kernelVersion: "6.1.0-56-cloud-amd64" });
  });
});

describe("parseList", () => {
  it("reads one or more entries per line and drops comments", () => {
    expect(parseList("# header\nkmod\nip_vs ip_vs_rr  # schedulers\n\n  docker.io\n")).toEqual(["kmod", "ip_vs", "ip_vs_rr", "docker.io"]);
  });
});

describe("withParents", () => {
  it("adds every parent image up to the Debian base, parents first", async () => {
    const { withParents } = await import("./images.ts");
    expect(withParents(["lb", "web"])).toEqual(["base", "lb", "web"]);
    expect(withParents(["base"])).toEqual(["base"]);
  });
});
