import { describe, expect, it } from "vitest";
import { formatCidr, parseCidr } from "../ipv4.ts";
import { parseProcNetRoute, pickFreeSubnet } from "./network.ts";

const PROC_NET_ROUTE = `Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT
eth0	00000000	010200C0	0003	0	0	0	00000000	0	0	0
eth0	000200C0	00000000	0001	0	0	0	00FFFFFF	0	0	0
docker0	000011AC	00000000	0001	0	0	0	0000FFFF	0	0	0
`;

describe("lab subnets", () => {
  it("read the host's routes from /proc/net/route, skipping the default route", () => {
    const routes = parseProcNetRoute(PROC_NET_ROUTE).map((r) => `${formatCidr(r.cidr)} ${r.dev}`);
    expect(routes).toEqual(["192.0.2.0/24 eth0", "172.17.0.0/16 docker0"]);
  });

  it("pick the first free /24 of the pool", () => {
    expect(formatCidr(pickFreeSubnet([])!)).toBe("10.213.0.0/24");
    const taken = [parseCidr("10.213.0.0/24")!, parseCidr("10.213.1.0/24")!];
    expect(formatCidr(pickFreeSubnet(taken)!)).toBe("10.213.2.0/24");
  });

  it("find nothing when a route covers the whole pool", () => {
    expect(pickFreeSubnet([parseCidr("10.0.0.0/8")!])).toBeUndefined();
  });
});

describe("docker times", async () => {
  const { parseDockerTime } = await import("./node-container.ts");
  it("keep microseconds of the engine's nanosecond times", () => {
    expect(parseDockerTime("2026-11-21T20:15:12.123456789Z")).toBe(Date.UTC(2026, 10, 21, 20, 15, 12) * 1000 + 123456);
    expect(parseDockerTime("2026-11-21T20:15:12Z")).toBe(Date.UTC(2026, 10, 21, 20, 15, 12) * 1000);
    expect(parseDockerTime("0001-01-01T00:00:00Z")).toBeUndefined();
    expect(parseDockerTime(undefined)).toBeUndefined();
  });
});
