import { describe, expect, it } from "vitest";
import { parseAddressLine, parseIpvsTable, parseKeepalivedLine, realServersOf, summarizeIpvsConnections } from "./parse.ts";

describe("address watch lines", () => {
  it("parse snapshot, additions and deletions with their stamps", () => {
    expect(parseAddressLine("1795290377.523322 SNAPSHOT 24: eth0    inet 10.213.50.11/24 brd 10.213.50.255 scope global eth0\\       valid_lft forever preferred_lft forever")).toEqual({
      kind: "snapshot",
      stampUs: 1795290377523322,
      address: "10.213.50.11",
      dev: "eth0",
    });
    expect(parseAddressLine("1795290377.526097 SNAPSHOT-END")).toEqual({ kind: "snapshot-end", stampUs: 1795290377526097 });
    expect(parseAddressLine("1795290380.356927 24: eth0    inet 10.213.50.100/24 scope global secondary eth0\\       valid_lft forever preferred_lft forever")).toMatchObject({
      kind: "added",
      address: "10.213.50.100",
    });
    expect(parseAddressLine("1795290390.1 Deleted 24: eth0    inet 10.213.50.100/24 scope global secondary eth0")).toMatchObject({
      kind: "deleted",
      stampUs: 1795290390100000,
      address: "10.213.50.100",
    });
  });

  it("ignore what is not an IPv4 address line", () => {
    expect(parseAddressLine("garbage")).toBeUndefined();
    expect(parseAddressLine("1795290390.1 2: eth0    inet6 fe80::1/64 scope link")).toBeUndefined();
  });
});

describe("keepalived log lines", () => {
  it("parse state changes, stripping keepalived's own second-resolution time", () => {
    expect(parseKeepalivedLine("1795290380.356886 Sat Nov 21 19:46:20 2026: (VI_1) Entering MASTER STATE")).toEqual({
      kind: "state",
      stampUs: 1795290380356886,
      instance: "VI_1",
      state: "MASTER",
      line: "(VI_1) Entering MASTER STATE",
    });
    expect(parseKeepalivedLine("1795290376.746864 Sat Nov  1 19:46:16 2026: (VI_2) Entering BACKUP STATE (init)")).toMatchObject({ kind: "state", instance: "VI_2", state: "BACKUP" });
  });

  it("recognise stops and notable lines", () => {
    expect(parseKeepalivedLine("1.5 Sat Nov 21 19:46:20 2026: Stopped Keepalived v2.2.7 (01/16,2022)")?.kind).toBe("stopped");
    expect(parseKeepalivedLine("1.5 Sat Nov 21 19:46:20 2026: (VI_1) sent 0 priority")?.kind).toBe("notable");
    expect(parseKeepalivedLine("1.5 Sat Nov 21 19:46:20 2026: Registering Kernel netlink reflector")?.kind).toBe("other");
  });
});

describe("neighbour lines", async () => {
  const { parseNeighLine, parseArpPacket } = await import("./parse.ts");
  it("parse reachable, stale, failed and deleted entries", () => {
    expect(parseNeighLine("10.213.0.100 dev br-1a2b lladdr 02:42:0A:D5:00:0B REACHABLE")).toEqual({ deleted: false, ip: "10.213.0.100", mac: "02:42:0a:d5:00:0b", state: "REACHABLE" });
    expect(parseNeighLine("10.213.0.100 lladdr 02:42:0a:d5:00:0c STALE")).toMatchObject({ mac: "02:42:0a:d5:00:0c", state: "STALE" });
    expect(parseNeighLine("10.213.0.100 dev br-1a2b FAILED")).toEqual({ deleted: false, ip: "10.213.0.100", mac: null, state: "FAILED" });
    expect(parseNeighLine("Deleted 10.213.0.100 dev br-1a2b lladdr 02:42:0a:d5:00:0b STALE")).toMatchObject({ deleted: true, state: "deleted" });
    expect(parseNeighLine("fe80::1 dev br-1a2b lladdr 02:42:0a:d5:00:0b router STALE")).toBeUndefined();
  });

  it("parse gratuitous ARP requests seen by tcpdump", () => {
    const p = parseArpPacket("1795290380.356927 20:31:12.123456 02:42:0a:d5:00:0b > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 10.213.0.100 tell 10.213.0.100, length 28");
    expect(p).toEqual({ stampUs: 1795290380356927, srcMac: "02:42:0a:d5:00:0b", kind: "request", ip: "10.213.0.100", senderIp: "10.213.0.100" });
    expect(parseArpPacket("1.5 20:31:12.1 02:42:0a:d5:00:0c > 02:42:0a:d5:00:01, ethertype ARP (0x0806), length 42: Reply 10.213.0.12 is-at 02:42:0a:d5:00:0c, length 28")).toMatchObject({ kind: "reply", ip: "10.213.0.12" });
  });
});

describe("ipvsadm -Ln", () => {
  it("reads virtual services and their real servers", () => {
    const text = [
      "IP Virtual Server version 1.2.1 (size=4096)",
      "Prot LocalAddress:Port Scheduler Flags",
      "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn",
      "TCP  10.213.171.150:80 rr persistent 5",
      "  -> 10.213.171.21:80             Route   1      0          92        ",
      "  -> 10.213.171.22:80             Masq    3      1          93        ",
      "TCP  10.213.171.200:8080 wlc",
    ].join("\n");
    const t = parseIpvsTable(text);
    expect(t).toEqual([
      { service: "TCP 10.213.171.150:80", scheduler: "rr", flags: "persistent 5", realServers: [{ address: "10.213.171.21:80", forward: "Route", weight: 1 }, { address: "10.213.171.22:80", forward: "Masq", weight: 3 }] },
      { service: "TCP 10.213.171.200:8080", scheduler: "wlc", flags: "", realServers: [] },
    ]);
    expect(realServersOf(t, "TCP 10.213.171.150:80")).toEqual(["10.213.171.21:80", "10.213.171.22:80"]);
  });

  it("keeps keepalived's LVS lines", () => {
    for (const line of [
      "Removing service [10.0.0.21]:tcp:80 from VS [10.0.0.150]:tcp:80",
      "Adding service [10.0.0.21]:tcp:80 to VS [10.0.0.150]:tcp:80",
      "TCP_CHECK on service [10.0.0.21]:tcp:80 failed after 1 retries.",
      "HTTP_CHECK on service [10.0.0.21]:tcp:80 failed after 1 retries.",
    ]) {
      expect(parseKeepalivedLine(`1732212345.123456 ${line}`)?.kind).toBe("notable");
    }
  });
});

describe("ipvsadm -Lnc", () => {
  it("says which real server each client's template names, which templates were invalidated, and where connections went", () => {
    // A director's table at the end of lvs-persistence (kernel 6.1): web2 (.22) left and came back.
    const text = [
      "IPVS connection entries",
      "pro expire state       source             virtual            destination",
      "TCP 01:34  TIME_WAIT   10.213.1.5:46842   10.213.1.150:80    10.213.1.22:80",
      "TCP 01:40  TIME_WAIT   10.213.1.6:35000   10.213.1.150:80    10.213.1.21:80",
      "TCP 01:57  TIME_WAIT   10.213.1.6:47538   10.213.1.150:80    10.213.1.21:80",
      "TCP 01:58  TIME_WAIT   10.213.1.5:53120   10.213.1.150:80    10.213.1.21:80",
      "TCP 00:03  ASSURED     10.213.1.6:0       10.213.1.150:80    10.213.1.21:80",
      "TCP 00:03  ASSURED     10.213.1.5:0       10.213.1.150:80    10.213.1.21:80",
      "TCP 00:45  ASSURED     10.213.1.5:0       10.213.1.150:65535 10.213.1.22:65535",
    ].join("\n");
    expect(summarizeIpvsConnections(text)).toBe(
      "templates 10.213.1.5 → 10.213.1.21:80, 10.213.1.6 → 10.213.1.21:80; invalidated templates 10.213.1.5 → 10.213.1.22; " +
        "connections 10.213.1.5 → 10.213.1.21:80 ×1, 10.213.1.22:80 ×1; 10.213.1.6 → 10.213.1.21:80 ×2",
    );
  });

  it("says so when the table is empty", () => {
    expect(summarizeIpvsConnections("IPVS connection entries\npro expire state       source             virtual            destination\n")).toBe("no templates; no connections");
  });
});
