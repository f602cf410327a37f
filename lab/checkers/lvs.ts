/**
 * The LVS tier's checks: when keepalived took a real server out of (and back into) a virtual
 * service, what each director's IPVS table held, whether clients stayed on their real server
 * (persistence), and how long clients were without service after a fault. Expected windows come
 * from protocol/lvs-timing.ts and vrrp-timing.ts; this file never invents a number.
 *
 * keepalived logs its changes to the table ("Removing service [10.0.0.21]:tcp:80 from VS
 * [10.0.0.150]:tcp:80", "Adding service … to VS …"), stamped in the director as it logs them: the
 * `log` ops those lines become time the change. The `ipvs` ops (the table polled in the director)
 * show what the kernel then held.
 */
import type { IpvsOp, LogOp, Op, RequestOp } from "../history/ops.ts";
import type { ExpectedWindow } from "../protocol/vrrp-timing.ts";
import { describeWindow } from "./migration.ts";
import { describeFaultRef, describeResolved, type FaultAnchor, type FaultRef, resolveFault } from "./faults.ts";
import { list, ms } from "./format.ts";
import { isFailed } from "./requests.ts";
import { requestOps } from "./select.ts";
import { type Checker, Inconclusive, runCheck } from "./types.ts";

/** "10.0.0.21:80" → the pattern of keepalived's "[10.0.0.21]:tcp:80" (or "[10.0.0.21]:80"). */
function serviceText(address: string): string {
  const [ip, port] = address.split(":");
  return `\\[${ip!.replaceAll(".", "\\.")}\\]:(?:tcp:)?${port}`;
}

/** keepalived's "Adding service" / "Removing service" lines of a director for one real server of one virtual service. */
export function tableChanges(ops: readonly Op[], director: string, realServer: string, virtualService: string, change: "Adding" | "Removing"): LogOp[] {
  const re = new RegExp(`${change} service ${serviceText(realServer)} (?:to|from) VS ${serviceText(virtualService)}`);
  return ops.filter((o): o is LogOp => o.f === "log" && o.node === director && re.test(o.line));
}

export function ipvsOps(ops: readonly Op[], director?: string): IpvsOp[] {
  return ops.filter((o): o is IpvsOp => o.f === "ipvs" && (director === undefined || o.node === director));
}

/** The real servers of a virtual service ("10.0.0.150:80") in an `ipvs` op. */
export function realServersIn(op: IpvsOp, virtualService: string): string[] {
  return op.services.find((s) => s.service.endsWith(` ${virtualService}`))?.realServers.map((r) => r.address) ?? [];
}

export interface TableChangeOptions {
  name?: string;
  director: string;
  /** "10.0.0.21:80" */
  realServer: string;
  /** "10.0.0.150:80" */
  virtualService: string;
  fault: FaultRef;
  anchor?: FaultAnchor;
  /**
   * Measure from this moment instead of the fault's anchor, named by `fromWhat` (e.g. when nginx
   * started inside a node that was powered on: the node's boot is not the checker's business).
   */
  fromMs?: number;
  fromWhat?: string;
  expected: ExpectedWindow;
}

function tableChange(options: TableChangeOptions, change: "Adding" | "Removing"): Checker {
  const anchor = options.anchor ?? "invoke";
  const verb = change === "Removing" ? "removed" : "added back";
  const name = options.name ?? `real-server-${change === "Removing" ? "removed" : "added"}(${options.realServer} on ${options.director}, ${describeFaultRef(options.fault)})`;
  const expected = options.fromMs === undefined ? describeWindow(options.expected, anchor) : `within [${options.expected.minMs.toFixed(1)}, ${options.expected.maxMs.toFixed(1)}] ms of ${options.fromWhat ?? "the given moment"}: ${options.expected.formula}`;
  return (ops) =>
    runCheck(
      name,
      () => {
        const f = resolveFault(ops, options.fault, anchor);
        const fromMs = options.fromMs ?? f.atMs;
        const from = options.fromMs === undefined ? describeResolved(f, anchor) : `${options.fromWhat ?? "the given moment"} (${ms(fromMs)})`;
        const line = tableChanges(ops, options.director, options.realServer, options.virtualService, change).find((o) => o.atMs >= f.invoke.atMs);
        // And the kernel's table, as polled after the fault, agrees.
        const tables = ipvsOps(ops, options.director).filter((o) => o.atMs >= f.invoke.atMs);
        const agrees = tables.find((o) => realServersIn(o, options.virtualService).includes(options.realServer) === (change === "Adding"));
        if (!line) {
          return { verdict: "fail", measured: null, expected, unit: "ms", detail: `${options.director}'s keepalived never logged "${change} service" for ${options.realServer} after ${describeResolved(f, anchor)}` };
        }
        // The earlier of the two: keepalived's line is stamped when it is read from its output (late
        // when the node's CPUs are busy); the table's poll is stamped just before ipvsadm reads it.
        const changedAt = agrees && agrees.atMs < line.atMs ? agrees.atMs : line.atMs;
        const measured = changedAt - fromMs;
        const inWindow = measured >= options.expected.minMs && measured <= options.expected.maxMs;
        return {
          verdict: inWindow && agrees ? "pass" : "fail",
          measured,
          expected,
          unit: "ms",
          detail:
            `${options.director} ${verb} ${options.realServer}: "${line.line.trim()}" at ${ms(line.atMs)}; ` +
            (agrees ? `its IPVS table showed it ${change === "Adding" ? "back" : "gone"} at ${ms(agrees.atMs)}` : "its IPVS table, as polled, never showed the change") +
            `; ${ms(measured)} after ${from}`,
        };
      },
      { expected, unit: "ms" },
    );
}

/**
 * measured = ms from the fault's anchor to keepalived's "Removing service" line for the real server
 * on the director. pass iff within the window and the director's polled table then lacks it.
 */
export function realServerRemoved(options: TableChangeOptions): Checker {
  return tableChange(options, "Removing");
}

/** As realServerRemoved, for "Adding service" after the server recovered (the table then has it). */
export function realServerAdded(options: TableChangeOptions): Checker {
  return tableChange(options, "Adding");
}

export interface IpvsTableOptions {
  name?: string;
  director: string;
  virtualService: string;
  /** The real servers the table must hold, exactly ("10.0.0.21:80", …). */
  realServers: string[];
  /** Judge the last table read at or before this time (default: the end of the history). */
  atMs?: number;
  /** Every real server must be reached this way: Route (DR), Masq (NAT), Tunnel. */
  forward?: string;
}

/** The director's IPVS table (as last polled by `atMs`) holds exactly these real servers for the service. */
export function ipvsTableHolds(options: IpvsTableOptions): Checker {
  const want = [...options.realServers].sort();
  const when = options.atMs === undefined ? "at the end" : `at ${ms(options.atMs)}`;
  const name = options.name ?? `ipvs-table(${options.director} ${options.virtualService} ${when})`;
  const expected = `${options.director}'s IPVS table holds ${options.virtualService} → ${want.join(", ")}${options.forward ? ` (forward: ${options.forward})` : ""} ${when}`;
  return (ops) =>
    runCheck(
      name,
      () => {
        const tables = ipvsOps(ops, options.director).filter((o) => o.atMs <= (options.atMs ?? Infinity));
        const last = tables.at(-1);
        if (!last) throw new Inconclusive(`no IPVS table of ${options.director} was read ${options.atMs === undefined ? "" : `by ${ms(options.atMs)}`}`);
        if (last.error) return { verdict: "fail", measured: last.error, expected, detail: `ipvsadm failed on ${options.director} at ${ms(last.atMs)}: ${last.error}` };
        const got = realServersIn(last, options.virtualService).sort();
        const same = got.length === want.length && got.every((g, i) => g === want[i]);
        const forwards = last.services.find((s) => s.service.endsWith(` ${options.virtualService}`))?.realServers.map((r) => r.forward) ?? [];
        const forwardOk = options.forward === undefined || forwards.every((f) => f === options.forward);
        return {
          verdict: same && forwardOk ? "pass" : "fail",
          measured: got.join(", ") || "(none)",
          expected,
          detail: `table read at ${ms(last.atMs)}: ${last.services.map((s) => `${s.service} ${s.scheduler}${s.flags ? ` ${s.flags}` : ""} → ${s.realServers.map((r) => `${r.address} ${r.forward} w${r.weight}`).join(", ") || "no real server"}`).join("; ") || "no virtual service"}`,
        };
      },
      { expected },
    );
}

export interface StickyClientsOptions {
  name?: string;
  stream?: string;
  fromMs?: number;
  toMs?: number;
  /** At least this many client addresses must have sent at least two successful requests. Default 1. */
  minClients?: number;
}

/**
 * Persistence: every client address (a request's `source`) was served by one backend only among its
 * successful requests starting in the window. measured = client addresses that were served by more
 * than one. Unknown when fewer than `minClients` addresses had two or more successful requests.
 */
export function stickyClients(options: StickyClientsOptions): Checker {
  const from = options.fromMs ?? -Infinity;
  const to = options.toMs ?? Infinity;
  const name = options.name ?? `sticky-clients([${options.fromMs ?? "start"}, ${options.toMs ?? "end"}) ms)`;
  const expected = `each client address is served by one backend for its requests starting in [${options.fromMs === undefined ? "start" : ms(from)}, ${options.toMs === undefined ? "end" : ms(to)})`;
  return (ops) =>
    runCheck(
      name,
      () => {
        const bySource = new Map<string, RequestOp[]>();
        for (const r of requestOps(ops, options.stream)) {
          if (r.atMs < from || r.atMs >= to || r.outcome !== "ok" || !r.backend) continue;
          const key = r.source ?? "(the client)";
          bySource.set(key, [...(bySource.get(key) ?? []), r]);
        }
        const judged = [...bySource].filter(([, rs]) => rs.length >= 2);
        if (judged.length < (options.minClients ?? 1)) {
          throw new Inconclusive(`only ${judged.length} client address(es) had two or more successful requests in the window; ${options.minClients ?? 1} needed`);
        }
        const summary = judged.map(([src, rs]) => `${src} → ${[...new Set(rs.map((r) => r.backend))].join("+")} (${rs.length})`);
        const switched = judged.filter(([, rs]) => new Set(rs.map((r) => r.backend)).size > 1);
        return { verdict: switched.length === 0 ? "pass" : "fail", measured: switched.length, unit: "count", expected, detail: list(summary) };
      },
      { expected, unit: "count" },
    );
}

export interface OutageOptions {
  name?: string;
  stream?: string;
  fault: FaultRef;
  anchor?: FaultAnchor;
  /** The window within which clients must be served again. */
  expected: ExpectedWindow;
  /** Only requests starting before this time count (e.g. before the next fault). */
  toMs?: number;
}

/**
 * How long clients were without service after a fault: measured = ms from the fault's anchor to the
 * start of the first successful request after the last failed one (0 when no request failed).
 * pass iff measured ≤ the window's max.
 */
export function outageAfter(options: OutageOptions): Checker {
  const anchor = options.anchor ?? "invoke";
  const name = options.name ?? `outage-after(${describeFaultRef(options.fault)})`;
  const expected = `clients served again ${describeWindow({ ...options.expected, minMs: 0 }, anchor)}`;
  return (ops) =>
    runCheck(
      name,
      () => {
        const f = resolveFault(ops, options.fault, anchor);
        const reqs = requestOps(ops, options.stream).filter((r) => r.atMs >= f.invoke.atMs && r.atMs < (options.toMs ?? Infinity));
        if (reqs.length === 0) throw new Inconclusive(`no request after ${describeResolved(f, anchor)}`);
        const failed = reqs.filter(isFailed);
        if (failed.length === 0) return { verdict: "pass", measured: 0, expected, unit: "ms", detail: `all ${reqs.length} requests after the fault succeeded` };
        const last = failed.at(-1)!;
        const next = reqs.find((r) => r.atMs > last.atMs && !isFailed(r));
        if (!next) return { verdict: "fail", measured: null, expected, unit: "ms", detail: `${failed.length} failed; no request succeeded after the last failure (started at ${ms(last.atMs)})` };
        const measured = Math.max(0, next.atMs - f.atMs);
        return {
          verdict: measured <= options.expected.maxMs ? "pass" : "fail",
          measured,
          expected,
          unit: "ms",
          detail: `${failed.length} of ${reqs.length} requests failed (first at ${ms(failed[0]!.atMs)}, last at ${ms(last.atMs)}: ${[...new Set(failed.map((r) => r.outcome))].join(", ")}); served again from ${ms(next.atMs)}`,
        };
      },
      { expected, unit: "ms" },
    );
}
