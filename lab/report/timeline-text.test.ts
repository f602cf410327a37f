import { describe, expect, it } from "vitest";
import { duration } from "./timeline-text.ts";

describe("durations in the timeline", () => {
  it("show a hand-over's sub-millisecond overlap in ms instead of 0.000 s", () => {
    expect(duration(0.4)).toBe("0.4 ms");
    expect(duration(648.44)).toBe("648.4 ms");
    expect(duration(3145.2)).toBe("3.145 s");
  });
});

describe("the timeline's LVS and ARP rows", () => {
  it("shows IPVS table changes, the client's ARP entry and gratuitous ARP bursts, in time order", async () => {
    const { buildReport } = await import("./report.ts");
    const { formatTimeline } = await import("./timeline-text.ts");
    const svc = (...rs: string[]) => [{ service: "TCP 10.213.1.150:80", scheduler: "rr", flags: "persistent 5", realServers: rs.map((address) => ({ address, forward: "Masq", weight: 1 })) }];
    const ops = [
      { process: "observer", f: "ipvs", node: "lvs1", services: svc("10.213.1.21:80", "10.213.1.22:80"), atMs: 1000 },
      { process: "observer", f: "ipvs", node: "lvs1", services: svc("10.213.1.21:80"), atMs: 5000 },
      { process: "observer", f: "garp", vip: "10.213.1.150", mac: "02:42:0a:d5:01:34", node: "lvs2", atMs: 6000 },
      { process: "observer", f: "garp", vip: "10.213.1.150", mac: "02:42:0a:d5:01:34", node: "lvs2", atMs: 6001 },
      { process: "observer", f: "garp", vip: "10.213.1.150", mac: "02:42:0a:d5:01:34", node: "lvs2", atMs: 6003 },
      { process: "observer", f: "arp", vip: "10.213.1.150", mac: "02:42:0a:d5:01:34", node: "lvs2", state: "REACHABLE", atMs: 6100 },
      { process: "observer", f: "ipvs", node: "lvs1", services: svc("10.213.1.21:80", "10.213.1.22:80"), atMs: 9000 },
    ].map((o, index) => ({ ...o, index })) as never;
    const report = buildReport({ scenario: "s", startedAt: new Date(0), durationMs: 10_000, ops, checks: [], figures: {} });
    expect(report.ipvsChanges).toEqual([
      { node: "lvs1", atMs: 5000, change: "10.213.1.22:80 out of TCP 10.213.1.150:80" },
      { node: "lvs1", atMs: 9000, change: "10.213.1.22:80 into TCP 10.213.1.150:80 (weight 1)" },
    ]);
    expect(formatTimeline(report).split("\n").slice(0, 4)).toEqual([
      "    5.000 s  ipvs      lvs1: 10.213.1.22:80 out of TCP 10.213.1.150:80",
      "    6.000 s  garp      lvs2 announced 10.213.1.150 ×3",
      "    6.100 s  arp       client's entry for 10.213.1.150: lvs2 (02:42:0a:d5:01:34) REACHABLE",
      "    9.000 s  ipvs      lvs1: 10.213.1.22:80 into TCP 10.213.1.150:80 (weight 1)",
    ]);
  });
});
