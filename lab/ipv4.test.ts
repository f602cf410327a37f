import { describe, expect, it } from "vitest";
import { cidrContains, cidrsOverlap, formatCidr, formatIpv4, isHostAddress, nthAddress, parseCidr, parseIpv4 } from "./ipv4.ts";

describe("ipv4", () => {
  it("parse and format addresses", () => {
    expect(parseIpv4("192.168.56.60")).toBe(0xc0a8383c);
    expect(formatIpv4(0xc0a8383c)).toBe("192.168.56.60");
    expect(parseIpv4("256.1.1.1")).toBeUndefined();
    expect(parseIpv4("1.2.3")).toBeUndefined();
    expect(parseIpv4("a.b.c.d")).toBeUndefined();
  });

  it("normalise a CIDR to its network address", () => {
    expect(formatCidr(parseCidr("10.90.3.77/24")!)).toBe("10.90.3.0/24");
    expect(parseCidr("10.0.0.0/33")).toBeUndefined();
  });

  it("tell containment and overlap", () => {
    const lab = parseCidr("10.90.3.0/24")!;
    expect(cidrContains(lab, parseIpv4("10.90.3.100")!)).toBe(true);
    expect(cidrContains(lab, parseIpv4("10.90.4.1")!)).toBe(false);
    expect(cidrsOverlap(lab, parseCidr("10.90.0.0/16")!)).toBe(true);
    expect(cidrsOverlap(lab, parseCidr("172.17.0.0/16")!)).toBe(false);
  });

  it("exclude network and broadcast addresses from hosts", () => {
    const lab = parseCidr("10.90.3.0/24")!;
    expect(isHostAddress(lab, parseIpv4("10.90.3.0")!)).toBe(false);
    expect(isHostAddress(lab, parseIpv4("10.90.3.255")!)).toBe(false);
    expect(formatIpv4(nthAddress(lab, 10))).toBe("10.90.3.10");
  });
});
