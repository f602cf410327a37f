/**
 * Parsers for what the nodes print: stamped `ip monitor address` lines and stamped keepalived log
 * lines. Pure functions, so they are tested on literal output.
 */
import { parseEpochRealtime } from "../history/clock.ts";
import type { IpvsService, VrrpState } from "../history/ops.ts";

export type AddressLine =
  | { kind: "snapshot"; stampUs: number; address: string; dev: string }
  | { kind: "snapshot-end"; stampUs: number }
  | { kind: "added" | "deleted"; stampUs: number; address: string; dev: string };

const ADDR = /^(Deleted )?\d+:\s+(\S+)\s+inet\s+(\d{1,3}(?:\.\d{1,3}){3})\/\d+/;

/** One line of lab-watch-addresses: "<stamp> [SNAPSHOT ]<ip -o -4 line>" or "<stamp> SNAPSHOT-END". */
export function parseAddressLine(line: string): AddressLine | undefined {
  const space = line.indexOf(" ");
  if (space < 0) return undefined;
  const stampUs = parseEpochRealtime(line.slice(0, space));
  if (stampUs === undefined) return undefined;
  let rest = line.slice(space + 1);
  if (rest.startsWith("SNAPSHOT-END")) return { kind: "snapshot-end", stampUs };
  const snapshot = rest.startsWith("SNAPSHOT ");
  if (snapshot) rest = rest.slice("SNAPSHOT ".length);
  const m = ADDR.exec(rest);
  if (!m) return undefined;
  const dev = m[2]!;
  const address = m[3]!;
  if (snapshot) return { kind: "snapshot", stampUs, address, dev };
  return { kind: m[1] ? "deleted" : "added", stampUs, address, dev };
}

export type KeepalivedLine =
  | { kind: "state"; stampUs: number; instance: string; state: VrrpState; line: string }
  | { kind: "stopped"; stampUs: number; line: string }
  | { kind: "notable"; stampUs: number; line: string }
  | { kind: "other"; stampUs: number; line: string };

const ENTERING = /\((\S+)\) Entering (MASTER|BACKUP|FAULT|INIT) STATE/;
const STOPPED = /Stopped Keepalived|Stopped - used|Stopped$/;
/** Lines worth keeping in the history besides state changes. */
const NOTABLE = [
  /sent 0 priority/,
  /received 0 priority/,
  /invalid passwd|authentication|auth type mismatch|received an invalid/i,
  /lower priority/i,
  /higher priority/i,
  /WARNING/,
  /Stopping/,
  /Script .* (failed|succeeded|timed out|now returning)/i,
  /Receive advertisement timeout/,
  /send advert error/,
  /ip address associated with VRID .* not present/i,
  /bogus VRRP packet/i,
  /VRRP_Script.*/,
  // LVS: keepalived's checkers and what it does to the IPVS table (check_tcp.c, check_http.c, ipwrapper.c).
  /(Adding|Removing) service \[/,
  /(TCP_CHECK|HTTP_CHECK|SSL_CHECK) on service .* failed/,
  /TCP connection to .* (success|timeout|failed)\./,
  /Remote Web server .* succeed/,
  // A checker's start (keepalived's start or reload) and, with checker_log_all_failures, every failed
  // attempt: HTTP_GET's "<what failed> server [10.0.0.21]:tcp:80." (check_http.c timeout_epilog).
  /(Activating|Deactivating) healthchecker for service/,
  / server \[[^\]]+\]:(tcp:|udp:)?\d+\.\s*$/,
  /IPVS: /,
];

/** One line of /var/log/lab/keepalived.log: "<stamp> <keepalived's own time>: <message>". */
export function parseKeepalivedLine(line: string): KeepalivedLine | undefined {
  const space = line.indexOf(" ");
  if (space < 0) return undefined;
  const stampUs = parseEpochRealtime(line.slice(0, space));
  if (stampUs === undefined) return undefined;
  const text = line.slice(space + 1).replace(/^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}: /, "");
  const e = ENTERING.exec(text);
  if (e) return { kind: "state", stampUs, instance: e[1]!, state: e[2] as VrrpState, line: text };
  if (STOPPED.test(text)) return { kind: "stopped", stampUs, line: text };
  if (NOTABLE.some((r) => r.test(text))) return { kind: "notable", stampUs, line: text };
  return { kind: "other", stampUs, line: text };
}

export interface NeighLine {
  deleted: boolean;
  ip: string;
  mac: string | null;
  /** Last state word (REACHABLE, STALE, DELAY, PROBE, FAILED, INCOMPLETE, PERMANENT, NOARP), or "deleted". */
  state: string;
}

/** One line of `ip monitor neigh` / `ip neigh show`: "[Deleted ]10.2.0.100 [dev br-x] [lladdr 02:42:..] STATE". */
export function parseNeighLine(line: string): NeighLine | undefined {
  const tokens = line.trim().split(/\s+/);
  let deleted = false;
  if (tokens[0] === "Deleted") {
    deleted = true;
    tokens.shift();
  } else if (tokens[0] === "Miss") return undefined;
  const ip = tokens[0];
  if (!ip || !/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) return undefined;
  const at = tokens.indexOf("lladdr");
  const mac = at >= 0 ? (tokens[at + 1]?.toLowerCase() ?? null) : null;
  const state = deleted ? "deleted" : (tokens.filter((t) => /^[A-Z]+$/.test(t)).at(-1) ?? "UNKNOWN");
  return { deleted, ip, mac, state };
}

export interface ArpPacket {
  stampUs: number;
  srcMac: string;
  kind: "request" | "reply";
  /** The address asked about (request) or announced (reply). */
  ip: string;
  /** The sender's address. */
  senderIp: string;
}

/**
 * One stamped line of `tcpdump -l -n -e arp`, e.g.
 * "<stamp> 20:31:12.123456 02:42:0a:d5:00:0b > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 10.213.0.100 tell 10.213.0.100, length 28"
 */
export function parseArpPacket(line: string): ArpPacket | undefined {
  const space = line.indexOf(" ");
  const stampUs = parseEpochRealtime(line.slice(0, space));
  if (stampUs === undefined) return undefined;
  const mac = /([0-9a-f]{2}(?::[0-9a-f]{2}){5}) > /i.exec(line);
  if (!mac) return undefined;
  const req = /Request who-has (\d{1,3}(?:\.\d{1,3}){3})(?: \([^)]*\))? tell (\d{1,3}(?:\.\d{1,3}){3})/.exec(line);
  if (req) return { stampUs, srcMac: mac[1]!.toLowerCase(), kind: "request", ip: req[1]!, senderIp: req[2]! };
  const rep = /Reply (\d{1,3}(?:\.\d{1,3}){3}) is-at/.exec(line);
  if (rep) return { stampUs, srcMac: mac[1]!.toLowerCase(), kind: "reply", ip: rep[1]!, senderIp: rep[1]! };
  return undefined;
}

/**
 * `ipvsadm -Ln` as text → its virtual services, e.g.
 *   TCP  10.213.7.150:80 rr persistent 5
 *     -> 10.213.7.21:80             Route   1      0          3
 */
export function parseIpvsTable(text: string): IpvsService[] {
  const services: IpvsService[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trimEnd();
    const svc = /^(TCP|UDP|SCTP|FWM)\s+(\S+)\s+(\S+)\s*(.*)$/.exec(line);
    if (svc) {
      services.push({ service: `${svc[1]} ${svc[2]}`, scheduler: svc[3]!, flags: svc[4]!.trim(), realServers: [] });
      continue;
    }
    const rs = /^\s+->\s+(\d{1,3}(?:\.\d{1,3}){3}:\d+)\s+(\S+)\s+(\d+)/.exec(line);
    const last = services.at(-1);
    if (rs && last) last.realServers.push({ address: rs[1]!, forward: rs[2]!, weight: Number(rs[3]) });
  }
  return services;
}

/** The real servers of `service` ("TCP 10.213.7.150:80") in a table, by address ("10.213.7.21:80"). */
export function realServersOf(services: readonly IpvsService[], service: string): string[] {
  return services.find((s) => s.service === service)?.realServers.map((r) => r.address) ?? [];
}

/**
 * `ipvsadm -Lnc` (a director's connection entries) → one line: which real server each client is
 * bound to by a persistence template, and where its connections went, e.g.
 *   "templates 10.213.1.5 → 10.213.1.21:80; connections 10.213.1.5 → 10.213.1.21:80 ×52, 10.213.1.22:80 ×30"
 * A template has client port 0; one whose real server left the service is rewritten to port 65535
 * (ip_vs_check_template) and is listed as "invalidated".
 *   TCP 00:03  ASSURED     10.213.1.5:0       10.213.1.150:80    10.213.1.21:80
 *   TCP 01:34  TIME_WAIT   10.213.1.5:46842   10.213.1.150:80    10.213.1.22:80
 */
export function summarizeIpvsConnections(text: string): string {
  const templates: string[] = [];
  const invalidated: string[] = [];
  const byClient = new Map<string, Map<string, number>>();
  for (const raw of text.split("\n")) {
    const m = /^\s*(?:TCP|UDP|SCTP)\s+\S+\s+\S+\s+(\d{1,3}(?:\.\d{1,3}){3}):(\d+)\s+\S+:(\d+)\s+(\S+)\s*$/.exec(raw);
    if (!m) continue;
    const [, client, port, vport, dest] = m;
    if (port === "0") (vport === "65535" ? invalidated : templates).push(`${client} → ${vport === "65535" ? dest!.replace(/:65535$/, "") : dest}`);
    else {
      const dests = byClient.get(client!) ?? new Map<string, number>();
      dests.set(dest!, (dests.get(dest!) ?? 0) + 1);
      byClient.set(client!, dests);
    }
  }
  const parts: string[] = [];
  parts.push(templates.length ? `templates ${templates.sort().join(", ")}` : "no templates");
  if (invalidated.length) parts.push(`invalidated templates ${invalidated.sort().join(", ")}`);
  const conns = [...byClient].sort(([a], [b]) => a.localeCompare(b)).map(([client, dests]) => `${client} → ${[...dests].sort().map(([d, n]) => `${d} ×${n}`).join(", ")}`);
  parts.push(conns.length ? `connections ${conns.join("; ")}` : "no connections");
  return parts.join("; ");
}
