import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { MonotonicClock } from "../history/clock.ts";
import { History } from "../history/history.ts";
import type { RequestOp } from "../history/ops.ts";
import { RequestStream } from "./request-stream.ts";

let server: Server | undefined;
afterEach(async () => {
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
});

function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  server = createServer(handler);
  return new Promise((resolve) => server!.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server!.address() as AddressInfo).port}/`)));
}

const requests = (h: History) => h.ops().filter((o): o is RequestOp => o.f === "request");

describe("request stream (against a loopback server)", () => {
  it("starts requests at the fixed rate and records who served each", async () => {
    const url = await listen((_req, res) => {
      res.setHeader("x-lab-backend", "web2");
      res.setHeader("x-lab-peer", "10.0.0.12");
      res.end("ok");
    });
    const history = new History(new MonotonicClock());
    const stream = new RequestStream(history, { url, ratePerSecond: 200, lbByAddress: new Map([["10.0.0.12", "lb2"]]) });
    const startedMs = history.clock.nowMs();
    stream.start();
    await new Promise((r) => setTimeout(r, 500));
    const stoppedMs = history.clock.nowMs();
    await stream.stop();
    const ops = requests(history);
    // 200/s for however long the stream really ran (a loaded machine wakes the timer late): one start
    // per 5 ms slot, give or take the slot in progress and the scheduler's last tick.
    const slots = Math.floor((stoppedMs - startedMs) / 5);
    expect(ops.length).toBeGreaterThanOrEqual(slots - 5);
    expect(ops.length).toBeLessThanOrEqual(slots + 2);
    expect(ops.every((o) => o.outcome === "ok" && o.status === 200 && o.backend === "web2" && o.lb === "lb2")).toBe(true);
    const starts = ops.map((o) => o.atMs);
    const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
    const meanGap = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    expect(meanGap).toBeGreaterThan(4);
    expect(meanGap).toBeLessThan(6);
  });

  it("records refused connections and timeouts as such", async () => {
    const url = await listen((_req, res) => setTimeout(() => res.end("late"), 400));
    const history = new History(new MonotonicClock());
    const slow = new RequestStream(history, { name: "slow", url, ratePerSecond: 20, timeoutMs: 100 });
    slow.start();
    await new Promise((r) => setTimeout(r, 200));
    await slow.stop();
    const timeouts = requests(history);
    expect(timeouts.length).toBeGreaterThan(0);
    expect(timeouts.every((o) => o.outcome === "timeout" && o.endMs - o.atMs >= 95)).toBe(true);

    await new Promise((r) => server!.close(r));
    server = undefined;
    const refusedHistory = new History(new MonotonicClock());
    const refused = new RequestStream(refusedHistory, { url, ratePerSecond: 50 });
    refused.start();
    await new Promise((r) => setTimeout(r, 100));
    await refused.stop();
    expect(requests(refusedHistory).map((o) => o.outcome)).toContain("refused");
    expect(requests(refusedHistory).every((o) => o.outcome === "refused")).toBe(true);
  });

  it("counts a 5xx as an HTTP error", async () => {
    const url = await listen((_req, res) => {
      res.statusCode = 502;
      res.end();
    });
    const history = new History(new MonotonicClock());
    const s = new RequestStream(history, { url, ratePerSecond: 50 });
    s.start();
    await new Promise((r) => setTimeout(r, 100));
    await s.stop();
    expect(requests(history).every((o) => o.outcome === "http-error" && o.status === 502)).toBe(true);
  });
});
