import { describe, expect, it } from "vitest";
import { ruleArgs } from "./network-faults.ts";

describe("iptables rules as iptables -S prints them", () => {
  it("unquote the comment so the rule can be deleted word for word", () => {
    expect(ruleArgs('INPUT -p vrrp -m comment --comment "fl:block-vrrp" -j DROP')).toEqual(["INPUT", "-p", "vrrp", "-m", "comment", "--comment", "fl:block-vrrp", "-j", "DROP"]);
    expect(ruleArgs("INPUT -s 10.213.0.12/32 -p vrrp -m statistic --mode random --probability 0.50000000000 -j DROP")).toHaveLength(13);
  });
});
