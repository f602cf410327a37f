/**
 * Parsers for what the nodes print: stamped `ip monitor address` lines and stamped keepalived log
 * lines. Pure functions, so they are tested on literal output.
 */
import { parseEpochRealtime } from "../history/clock.ts";
import type { VrrpState } from "../history/ops.ts";

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
  /receive(d)? (a )?lower priority/i,
  /higher priority/i,
  /WARNING/,
  /Stopping/,
  /Script .* (failed|succeeded|timed out|now returning)/i,
  /Receive advertisement timeout/,
  /ip address associated with VRID .* not present/i,
  /bogus VRRP packet/i,
  /VRRP_Script.*/,
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
