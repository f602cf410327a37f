import { describe, expect, it } from "vitest";
import { ManualClock } from "../history/clock.ts";
import { History } from "../history/history.ts";
import type { VipOp } from "../history/ops.ts";
import type { LabNode } from "../runtime/node-container.ts";
import { VipObserver } from "./vip-observer.ts";

const VIP = "10.0.0.150";

/** A node whose `lab-watch-addresses` prints these lines (stamps in seconds, as bash's $EPOCHREALTIME). */
function nodePrinting(lines: string[]): LabNode {
  async function* print() {
    for (const line of lines) yield line;
  }
  return { name: "lvs1", pace: { timeScale: 1 }, stream: async () => ({ lines: print(), close: () => undefined }) } as unknown as LabNode;
}

async function watch(lines: string[], heldBefore = false): Promise<{ ops: VipOp[]; owners: string[] }> {
  const history = new History(new ManualClock());
  const observer = new VipObserver(history, [VIP]);
  if (heldBefore) await observer.attach(nodePrinting(["1.000000 SNAPSHOT 2: eth0    inet 10.0.0.51/24 scope global eth0", `1.000000 SNAPSHOT 2: eth0    inet ${VIP}/24 scope global secondary eth0`, "1.000000 SNAPSHOT-END"]));
  await observer.attach(nodePrinting(lines));
  // Let the reading loop drain what is left after the snapshot's end.
  await new Promise((r) => setTimeout(r, 10));
  return { ops: history.ops().filter((o): o is VipOp => o.f === "vip"), owners: observer.owners(VIP) };
}

describe("VIP observer: snapshot and monitor of a node's addresses", () => {
  it("the snapshot says who holds the VIP when the watch begins; the monitor, every change after", async () => {
    const { ops, owners } = await watch([
      "10.000000 SNAPSHOT 2: eth0    inet 10.0.0.51/24 scope global eth0",
      "10.000000 SNAPSHOT-END",
      `12.500000 2: eth0    inet ${VIP}/24 scope global secondary eth0`,
    ]);
    expect(ops.map((o) => [o.event, o.source, o.atMs])).toEqual([["acquired", "monitor", 12_500]]);
    expect(owners).toEqual(["lvs1"]);
  });

  it("a VIP added while the snapshot was taken stays held, though the snapshot (older, stamped later) lacks it", async () => {
    // Seen in a TCG guest after a power-on: keepalived added the VIP while the snapshot's `ip addr`
    // ran; the monitor's line came first, the snapshot without the VIP 150 ms after it.
    const { ops, owners } = await watch([
      `165.058097 2: eth0    inet ${VIP}/24 scope global secondary eth0`,
      "165.208036 SNAPSHOT 2: eth0    inet 10.0.0.51/24 scope global eth0",
      "165.208036 SNAPSHOT-END",
    ]);
    expect(ops.map((o) => [o.event, o.source])).toEqual([["acquired", "monitor"]]);
    expect(owners).toEqual(["lvs1"]);
  });

  it("a VIP deleted while the snapshot was taken stays released, though the snapshot still lists it", async () => {
    const { ops, owners } = await watch(
      [`5.000000 Deleted 2: eth0    inet ${VIP}/24 scope global secondary eth0`, `5.100000 SNAPSHOT 2: eth0    inet ${VIP}/24 scope global secondary eth0`, "5.100000 SNAPSHOT-END"],
      true,
    );
    expect(ops.map((o) => [o.event, o.source])).toEqual([["acquired", "snapshot"], ["released", "monitor"]]);
    expect(owners).toEqual([]);
  });

  it("without a change during the snapshot, the snapshot corrects what was believed", async () => {
    const { ops, owners } = await watch(["7.000000 SNAPSHOT 2: eth0    inet 10.0.0.51/24 scope global eth0", "7.000000 SNAPSHOT-END"], true);
    expect(ops.map((o) => [o.event, o.source])).toEqual([["acquired", "snapshot"], ["released", "snapshot"]]);
    expect(owners).toEqual([]);
  });

  it("the VIP on lo (an LVS-DR real server) is not holding it", async () => {
    const { ops } = await watch([`1.000000 SNAPSHOT 1: lo    inet ${VIP}/32 scope global lo`, "1.000000 SNAPSHOT-END"]);
    expect(ops).toEqual([]);
  });
});

describe("VIP observer: catching up at a run's end", () => {
  it("takes in the changes its stream has not delivered yet from the node's copy, once each", async () => {
    const delivered = ["10.000000 SNAPSHOT 2: eth0    inet 10.0.0.52/24 scope global eth0", "10.000000 SNAPSHOT-END"];
    // A busy node's stream is behind: lvs2 took the VIP and gave it back, and only the file says so yet.
    const file = [...delivered, `20.000000 2: eth0    inet ${VIP}/24 scope global secondary eth0`, `21.000000 Deleted 2: eth0    inet ${VIP}/24 scope global secondary eth0`, ""].join("\n");
    async function* print() {
      for (const line of delivered) yield line;
    }
    const node = {
      name: "lvs2",
      pace: { timeScale: 1 },
      stream: async () => ({ lines: print(), close: () => undefined }),
      readFile: async (path: string) => {
        if (path !== "/var/log/lab/addresses.log") throw new Error(`no such file: ${path}`);
        return file;
      },
    } as unknown as LabNode;
    const history = new History(new ManualClock());
    const observer = new VipObserver(history, [VIP]);
    await observer.attach(node);
    await new Promise((r) => setTimeout(r, 10));
    expect(history.ops().filter((o) => o.f === "vip")).toEqual([]);
    await observer.catchUp();
    await observer.catchUp();
    const ops = history.ops().filter((o): o is VipOp => o.f === "vip");
    expect(ops.map((o) => [o.node, o.event, o.source, o.atMs])).toEqual([
      ["lvs2", "acquired", "monitor", 20_000],
      ["lvs2", "released", "monitor", 21_000],
    ]);
    expect(observer.owners(VIP)).toEqual([]);
  });
});
