import { describe, expect, it } from "vitest";
import type { NewOp } from "../history/ops.ts";
import { checkerStart, failedCheckAttempts, failuresCarriedInto, firstAttemptPending, ipvsTableHolds, outageAfter, realServerAdded, realServerRemoved, stickyClients } from "./lvs.ts";
import { parseKeepalivedLine } from "../workload/parse.ts";
import { faultPair, history, request } from "./test-history.ts";

const VS = "10.0.0.150:80";
const WEB1 = "10.0.0.21:80";
const WEB2 = "10.0.0.22:80";
// The seed's TCP_CHECK as keepalived runs it (retry 1): a refused server is removed in [3000, 9000] ms ± 250 ms.
const CHECK = { kind: "TCP_CHECK", delayLoopMs: 6000, connectTimeoutMs: 2000, retry: 1, delayBeforeRetryMs: 3000 } as const;

function log(atMs: number, node: string, line: string): NewOp {
  return { atMs, process: "observer", f: "log", node, daemon: "keepalived", line };
}
function table(atMs: number, node: string, ...servers: string[]): NewOp {
  return { atMs, process: "observer", f: "ipvs", node, services: [{ service: `TCP ${VS}`, scheduler: "rr", flags: "", realServers: servers.map((address) => ({ address, forward: "Route", weight: 1 })) }] };
}
const removed = (atMs: number) => log(atMs, "lvs1", `Removing service [10.0.0.21]:tcp:80 from VS [10.0.0.150]:tcp:80`);
const timedOut = (atMs: number, node = "lvs1") => log(atMs, node, "TCP connection to [10.0.0.21]:tcp:80 timeout.");
const added = (atMs: number) => log(atMs, "lvs1", `Adding service [10.0.0.21]:tcp:80 to VS [10.0.0.150]:tcp:80`);
const from = (source: string, atMs: number, backend: string) => ({ ...request(atMs, atMs + 5, "ok", { backend }), source }) as NewOp;

describe("real server removed / added", () => {
  const opts = { director: "lvs1", realServer: WEB1, virtualService: VS, fault: { faultId: 1 }, check: CHECK, failure: "refused" as const };

  it("measures from the fault to keepalived's line, and wants the polled table to agree", () => {
    const ops = history(table(0, "lvs1", WEB1, WEB2), ...faultPair(1000, 1, "stop-nginx", "web1"), removed(6000), table(6300, "lvs1", WEB2));
    const r = realServerRemoved(opts)(ops);
    expect(r.verdict).toBe("pass");
    expect(r.measured).toBe(5000);
    expect(r.detail).toContain("showed it gone at 6300");
  });

  it("fails when the removal comes too late, or never", () => {
    expect(realServerRemoved(opts)(history(...faultPair(1000, 1, "stop-nginx", "web1"), removed(11_000), table(11_200, "lvs1", WEB2))).verdict).toBe("fail");
    const never = realServerRemoved(opts)(history(...faultPair(1000, 1, "stop-nginx", "web1")));
    expect(never.verdict).toBe("fail");
    expect(never.measured).toBeNull();
  });

  it("fails when the table never shows it (keepalived said so, the kernel did not)", () => {
    const r = realServerRemoved(opts)(history(...faultPair(1000, 1, "stop-nginx", "web1"), removed(6000), table(6300, "lvs1", WEB1, WEB2)));
    expect(r.verdict).toBe("fail");
    expect(r.detail).toContain("never showed");
  });

  it("the change is the earlier of the log line and the first table without it (the line is stamped when read)", () => {
    const ops = history(...faultPair(1000, 1, "stop-nginx", "web1"), table(5700, "lvs1", WEB2), removed(6000));
    expect(realServerRemoved(opts)(ops)).toMatchObject({ verdict: "pass", measured: 4700 });
  });

  it("measures from another moment when asked (nginx's start inside a node powered on)", () => {
    const ops = history(...faultPair(1000, 1, "power-on", "web1"), added(9000), table(9100, "lvs1", WEB1, WEB2));
    const r = realServerAdded({ ...opts, fault: { faultId: 1 }, fromMs: 7000, fromWhat: "nginx's start", expected: { minMs: 0, maxMs: 3000, formula: "" } })(ops);
    expect(r).toMatchObject({ verdict: "pass", measured: 2000 });
    expect(r.expected).toContain("of nginx's start");
  });

  it("added back: the same, with Adding service", () => {
    const ops = history(...faultPair(1000, 1, "start-nginx", "web1"), added(4000), table(4400, "lvs1", WEB1, WEB2));
    expect(realServerAdded({ ...opts, expected: { minMs: 0, maxMs: 6250, formula: "" } })(ops).measured).toBe(3000);
  });

  it("unknown without its fault", () => {
    expect(realServerRemoved(opts)(history(removed(6000))).verdict).toBe("unknown");
  });

  it("an attempt that had failed just before the fault shortens the window: one more failure takes the server out", () => {
    // Failed at 500 on the healthy server; the retry is due at 3500, after the fault at 1000: certain.
    const ops = history(timedOut(500), ...faultPair(1000, 1, "stop-nginx", "web1"), removed(3500), table(3600, "lvs1", WEB2));
    const r = realServerRemoved(opts)(ops);
    expect(r).toMatchObject({ verdict: "pass", measured: 2500 });
    expect(r.expected).toContain("within [0.0, 3250.0] ms");
    expect(r.expected).toContain("1 attempt(s) had already failed before the fault");
    expect(r.detail).toContain('"TCP connection to [10.0.0.21]:tcp:80 timeout." at 500');
    // Without that line the same removal is too early for a checker that starts clean.
    expect(realServerRemoved(opts)(history(...faultPair(1000, 1, "stop-nginx", "web1"), removed(3500), table(3600, "lvs1", WEB2))).verdict).toBe("fail");
  });

  it("a failure whose retry may have run before the fault: the window spans both cases", () => {
    // Failed 2900 ms before the fault: its retry was due 100 ms before the fault, within the 250 ms slack, so it
    // may have run (and succeeded, unlogged) before the fault, or not.
    const ops = history(timedOut(-1900), ...faultPair(1000, 1, "stop-nginx", "web1"), removed(1200), table(1300, "lvs1", WEB2));
    const r = realServerRemoved(opts)(ops);
    expect(r).toMatchObject({ verdict: "pass", measured: 200 });
    expect(r.expected).toContain("within [0.0, 9250.0] ms");
    expect(r.expected).toContain("either");
    expect(r.detail).toContain("unknown");
  });

  it("a failure followed by a whole unlogged attempt before the fault was followed by a success: nothing carried", () => {
    const ops = history(timedOut(-5000), ...faultPair(1000, 1, "stop-nginx", "web1"), removed(3500), table(3600, "lvs1", WEB2));
    expect(realServerRemoved(opts)(ops).verdict).toBe("fail");
    expect(failuresCarriedInto(ops.filter(() => true), "lvs1", WEB1, 1000, CHECK, 250)).toEqual({ count: 0, certain: true, lines: [] });
  });

  it("another director's failures, and other servers' failures, are not this checker's", () => {
    const ops = history(timedOut(500, "lvs2"), log(600, "lvs1", "TCP connection to [10.0.0.22]:tcp:80 timeout."));
    expect(failuresCarriedInto(ops, "lvs1", WEB1, 1000, CHECK, 250).count).toBe(0);
    expect(failuresCarriedInto(ops, "lvs2", WEB1, 1000, CHECK, 250)).toMatchObject({ count: 1, certain: true });
  });

  it("with retry 0 every failure removes at once: nothing is carried", () => {
    expect(failuresCarriedInto(history(timedOut(500)), "lvs1", WEB1, 1000, { ...CHECK, retry: 0 }, 250).count).toBe(0);
  });

  // keepalived 2.2.7's lines in a director that had just booted again (lvs-full-stack, lvs1 after its power-on).
  const activated = (atMs: number, node = "lvs1") => log(atMs, node, "Activating healthchecker for service [10.0.0.21]:tcp:80 for VS [10.0.0.150]:tcp:80");
  const firstSuccess = (atMs: number) => log(atMs, "lvs1", "TCP connection to [10.0.0.21]:tcp:80 success.");

  it("a checker started shortly before the fault, its first attempt not yet ended: that attempt's one failure removes the server", () => {
    // Started 6300 ms before the fault: the first attempt comes by 1000 + 6000 ms after the start, so by 700 ms after
    // the fault, and ends within connect_timeout: [0, 2700] ms ± 250 ms. A CI run measured 248 ms.
    const ops = history(activated(-5300), ...faultPair(1000, 1, "power-off", "web1"), timedOut(1248), log(1249, "lvs1", "TCP_CHECK on service [10.0.0.21]:tcp:80 failed."), removed(1249), table(1400, "lvs1", WEB2));
    const r = realServerRemoved({ ...opts, failure: "silent" })(ops);
    expect(r).toMatchObject({ verdict: "pass", measured: 249 });
    expect(r.expected).toContain("within [0.0, 2950.0] ms");
    expect(r.expected).toContain("its one failure removes the server");
    expect(r.detail).toContain("had started its checker 6300.0 ms before the fault");
    // The same removal from a checker whose first attempt had succeeded needs two failed attempts: too early.
    const settled = history(activated(-5300), firstSuccess(-2000), ...faultPair(1000, 1, "power-off", "web1"), timedOut(1248), removed(1249), table(1400, "lvs1", WEB2));
    expect(realServerRemoved({ ...opts, failure: "silent" })(settled).verdict).toBe("fail");
    // And a first attempt that came too late for its window fails.
    const late = history(activated(-5300), ...faultPair(1000, 1, "power-off", "web1"), removed(4500), table(4600, "lvs1", WEB2));
    expect(realServerRemoved({ ...opts, failure: "silent" })(late).verdict).toBe("fail");
  });

  it("a pending first attempt is the checker's since keepalived's last start, on this director, for this server", () => {
    const ops = history(activated(0), firstSuccess(3000), activated(10_000), activated(10_000, "lvs2"), log(11_000, "lvs1", "TCP connection to [10.0.0.22]:tcp:80 success."));
    expect(checkerStart(ops, "lvs1", WEB1, 12_000)?.atMs).toBe(10_000);
    expect(firstAttemptPending(ops, "lvs1", WEB1, 12_000)?.atMs).toBe(10_000);
    expect(firstAttemptPending(ops, "lvs1", WEB1, 5000)).toBeUndefined();
    expect(firstAttemptPending(ops, "lvs1", WEB2, 12_000)).toBeUndefined();
    for (const line of ["Remote Web server [10.0.0.21]:tcp:80 succeed on service.", "HTTP_CHECK on service [10.0.0.21]:tcp:80 failed.", "Removing service [10.0.0.21]:tcp:80 from VS [10.0.0.150]:tcp:80"]) {
      expect(firstAttemptPending(history(activated(0), log(2000, "lvs1", line)), "lvs1", WEB1, 3000)).toBeUndefined();
    }
    expect(firstAttemptPending(history(log(0, "lvs1", "Deactivating healthchecker for service [10.0.0.21]:tcp:80 for VS [10.0.0.150]:tcp:80")), "lvs1", WEB1, 1000)).toBeUndefined();
  });

  it("failures before keepalived's restart are not carried into a fault after it", () => {
    const ops = history(timedOut(-500), activated(0), firstSuccess(2000));
    expect(failuresCarriedInto(ops, "lvs1", WEB1, 2500, CHECK, 250).count).toBe(0);
    expect(failuresCarriedInto(history(timedOut(-500)), "lvs1", WEB1, 2500, CHECK, 250).count).toBe(1);
  });

  it("reads TCP_CHECK's and HTTP_GET's failed-attempt lines, not the state changes", () => {
    const lines = [
      "TCP connection to [10.0.0.21]:tcp:80 timeout.",
      "TCP connection to [10.0.0.21]:tcp:80 failed.",
      "Timeout connecting server [10.0.0.21]:tcp:80.",
      "HTTP status code error to server [10.0.0.21]:tcp:80.",
      "TCP_CHECK on service [10.0.0.21]:tcp:80 failed after 1 retries.",
      "Removing service [10.0.0.21]:tcp:80 from VS [10.0.0.150]:tcp:80",
      "TCP connection to [10.0.0.21]:tcp:80 success.",
      "Remote Web server [10.0.0.21]:tcp:80 succeed on service.",
      "TCP connection to [10.0.0.211]:tcp:80 timeout.",
    ];
    const ops = history(...lines.map((line, i) => log(i, "lvs1", line)));
    expect(failedCheckAttempts(ops, "lvs1", WEB1).map((o) => o.line)).toEqual(lines.slice(0, 4));
  });
});

describe("the director's log lines, as the observer keeps them", () => {
  // keepalived 2.2.7's own lines (lvs-full-stack, lvs1 booted again), then HTTP_GET's failed-attempt lines.
  const raw = [
    "1795325610.887984 Sun Nov 22 05:33:30 2026: Activating healthchecker for service [10.0.0.21]:tcp:80 for VS [10.0.0.150]:tcp:80",
    "1795325619.865884 Sun Nov 22 05:33:39 2026: TCP connection to [10.0.0.21]:tcp:80 timeout.",
    "1795325619.866706 Sun Nov 22 05:33:39 2026: TCP_CHECK on service [10.0.0.21]:tcp:80 failed.",
    "1795325619.867090 Sun Nov 22 05:33:39 2026: Removing service [10.0.0.21]:tcp:80 from VS [10.0.0.150]:tcp:80",
    "1795325630.885890 Sun Nov 22 05:33:50 2026: TCP connection to [10.0.0.21]:tcp:80 success.",
    "1795325631.000000 Sun Nov 22 05:33:51 2026: TCP connection to [10.0.0.21]:tcp:80 failed.",
    "1795325632.000000 Sun Nov 22 05:33:52 2026: Timeout connecting server [10.0.0.21]:tcp:80.",
    "1795325633.000000 Sun Nov 22 05:33:53 2026: HTTP status code error to server [10.0.0.21]:tcp:80.",
  ];

  it("keeps every line the LVS checks read (a line the observer drops is a failure the checks never see)", () => {
    const parsed = raw.map((line) => parseKeepalivedLine(line));
    expect(parsed.map((p) => p?.kind)).toEqual(raw.map(() => "notable"));
    const ops = history(...parsed.map((p) => log(p!.stampUs / 1000, "lvs1", p!.line)));
    expect(checkerStart(ops, "lvs1", WEB1, Infinity)?.line).toContain("Activating healthchecker");
    expect(failedCheckAttempts(ops, "lvs1", WEB1)).toHaveLength(4);
    expect(firstAttemptPending(ops.slice(0, 1), "lvs1", WEB1, Infinity)).toBeDefined();
    expect(firstAttemptPending(ops, "lvs1", WEB1, Infinity)).toBeUndefined();
  });
});

describe("ipvs table", () => {
  it("judges the last table read by then", () => {
    const ops = history(table(0, "lvs1", WEB1, WEB2), table(5000, "lvs1", WEB2));
    expect(ipvsTableHolds({ director: "lvs1", virtualService: VS, realServers: [WEB2] })(ops).verdict).toBe("pass");
    expect(ipvsTableHolds({ director: "lvs1", virtualService: VS, realServers: [WEB2, WEB1], atMs: 4000 })(ops).verdict).toBe("pass");
    expect(ipvsTableHolds({ director: "lvs1", virtualService: VS, realServers: [WEB1, WEB2] })(ops).verdict).toBe("fail");
    expect(ipvsTableHolds({ director: "lvs2", virtualService: VS, realServers: [WEB1] })(ops).verdict).toBe("unknown");
  });
});

describe("sticky clients", () => {
  it("passes when every source keeps one backend, and counts those that switched", () => {
    const ok = history(from("a", 0, "web1"), from("b", 10, "web2"), from("a", 20, "web1"), from("b", 30, "web2"));
    expect(stickyClients({ minClients: 2 })(ok)).toMatchObject({ verdict: "pass", measured: 0 });
    const bad = history(from("a", 0, "web1"), from("a", 20, "web2"), from("b", 30, "web2"), from("b", 40, "web2"));
    expect(stickyClients({})(bad)).toMatchObject({ verdict: "fail", measured: 1 });
  });

  it("says when a client that switched began on each backend", () => {
    const back = history(from("a", 0, "web1"), from("a", 200, "web2"), from("a", 400, "web2"), from("a", 600, "web1"), from("b", 100, "web2"), from("b", 300, "web2"));
    const detail = stickyClients({})(back).detail ?? "";
    expect(detail).toContain("a → web1 from 0.0 ms, web2 from 200.0 ms, web1 from 600.0 ms (4)");
    expect(detail).toContain("b → web2 (2)");
  });

  it("unknown with too few clients to judge", () => {
    expect(stickyClients({ minClients: 2 })(history(from("a", 0, "web1"), from("a", 5, "web1"))).verdict).toBe("unknown");
  });
});

describe("outage after a fault", () => {
  it("measures to the first success after the last failure", () => {
    const ops = history(
      ...faultPair(1000, 1, "power-off", "lvs1"),
      request(900, 905, "ok"),
      request(1100, 2100, "timeout"),
      request(3000, 4000, "timeout"),
      request(4500, 4505, "ok"),
      request(5000, 5005, "ok"),
    );
    const r = outageAfter({ fault: { faultId: 1 }, expected: { minMs: 0, maxMs: 5000, formula: "" } })(ops);
    expect(r).toMatchObject({ verdict: "pass", measured: 3500 });
    expect(outageAfter({ fault: { faultId: 1 }, expected: { minMs: 0, maxMs: 3000, formula: "" } })(ops).verdict).toBe("fail");
  });

  it("zero when nothing failed", () => {
    const ops = history(...faultPair(1000, 1, "power-off", "lvs1"), request(1100, 1105, "ok"));
    expect(outageAfter({ fault: { faultId: 1 }, expected: { minMs: 0, maxMs: 10, formula: "" } })(ops).measured).toBe(0);
  });
});
