import { describe, expect, it } from "vitest";
import { ManualClock } from "../history/clock.ts";
import { History } from "../history/history.ts";
import type { GarpOp } from "../history/ops.ts";
import type { LabNode } from "../runtime/node-container.ts";
import { GarpObserver } from "./arp-observer.ts";

const VIP = "10.213.1.150";
const line = (stamp: string, mac: string, text: string) => `${stamp} 08:00:00.000000 ${mac} > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: ${text}, length 28`;

describe("gratuitous ARP observer: catching up at a run's end", () => {
  it("takes the announcements its stream has not delivered yet from the client node's copy, once each", async () => {
    const delivered = [line("10.000000", "02:42:0a:d5:01:33", `Request who-has ${VIP} tell ${VIP}`)];
    const file = [
      ...delivered,
      line("11.000000", "02:42:0a:d5:01:05", `Request who-has ${VIP} tell 10.213.1.5`),
      line("90.000000", "02:42:0a:d5:01:34", `Request who-has ${VIP} tell ${VIP}`),
      line("90.001000", "02:42:0a:d5:01:34", `Reply ${VIP} is-at 02:42:0a:d5:01:34`),
      "",
    ].join("\n");
    async function* print() {
      for (const l of delivered) yield l;
    }
    const client = {
      name: "client",
      stream: async () => ({ lines: print(), close: () => undefined }),
      readFile: async (path: string) => {
        if (path !== "/var/log/lab/arp.log") throw new Error(`no such file: ${path}`);
        return file;
      },
    } as unknown as LabNode;
    const history = new History(new ManualClock());
    const names: Record<string, string> = { "02:42:0a:d5:01:33": "lvs1", "02:42:0a:d5:01:34": "lvs2" };
    const observer = new GarpObserver(history, [VIP], async (mac) => names[mac] ?? null);
    await observer.start(client);
    await new Promise((r) => setTimeout(r, 10));
    await observer.catchUp();
    await observer.catchUp();
    const ops = history.ops().filter((o): o is GarpOp => o.f === "garp");
    expect(ops.map((o) => [o.node, o.atMs])).toEqual([
      ["lvs1", 10_000],
      ["lvs2", 90_000],
      ["lvs2", 90_001],
    ]);
  });
});
