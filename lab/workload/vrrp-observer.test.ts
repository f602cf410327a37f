import { describe, expect, it } from "vitest";
import { ManualClock } from "../history/clock.ts";
import { History } from "../history/history.ts";
import type { VrrpOp } from "../history/ops.ts";
import type { LabNode } from "../runtime/node-container.ts";
import { VrrpObserver } from "./vrrp-observer.ts";

describe("VRRP observer: catching up at a run's end", () => {
  it("reads the log file to its end for the lines its stream has not delivered, skipping those it has", async () => {
    const delivered = ["10.000000 Sun Nov 22 07:38:24 2026: (VI_1) Entering BACKUP STATE (init)"];
    const file = [
      ...delivered,
      "90.000000 Sun Nov 22 07:39:44 2026: (VI_1) Receive advertisement timeout",
      "90.100000 Sun Nov 22 07:39:44 2026: (VI_1) Entering MASTER STATE",
      "91.200000 Sun Nov 22 07:39:45 2026: (VI_1) Master received advert from 10.213.1.51 with higher priority 100, ours 50",
      "91.300000 Sun Nov 22 07:39:45 2026: (VI_1) Entering BACKUP STATE",
      "",
    ].join("\n");
    async function* print() {
      for (const line of delivered) yield line;
    }
    const node = {
      name: "lvs2",
      stream: async () => ({ lines: print(), close: () => undefined }),
      readFile: async (path: string) => {
        if (path !== "/var/log/lab/keepalived.log") throw new Error(`no such file: ${path}`);
        return file;
      },
    } as unknown as LabNode;
    const history = new History(new ManualClock());
    const observer = new VrrpObserver(history, () => ["VI_1"]);
    await observer.attach(node);
    await new Promise((r) => setTimeout(r, 10));
    expect(observer.state("lvs2", "VI_1")).toBe("BACKUP");
    await observer.catchUp();
    await observer.catchUp();
    const ops = history.ops().filter((o): o is VrrpOp => o.f === "vrrp");
    expect(ops.map((o) => [o.from, o.to, o.atMs])).toEqual([
      ["INIT", "BACKUP", 10_000],
      ["BACKUP", "MASTER", 90_100],
      ["MASTER", "BACKUP", 91_300],
    ]);
  });
});
