/**
 * Bring your own keepalived.conf (per load balancer) and nginx.conf (shared). The lab's addresses
 * are only known at run time, so the files use placeholders:
 *
 *   {{interface}}     the lab interface (eth0)         {{self}}        this node's address
 *   {{node:lb2}}      another node's address           {{host:100}}    host 100 of the lab subnet
 *   {{prefix}}        the subnet's prefix length (24)  {{subnet}}      the subnet (10.213.7.0/24)
 *
 * The VRRP instances are read from the keepalived files, so observers and checkers know the VIPs.
 * Paths must stay inside the topology file's folder, symbolic links included. Pitfalls from the tutorials are reported.
 */
import { readFile, realpath } from "node:fs/promises";
import { isAbsolute, relative, resolve } from "node:path";
import { TopologyError, type TopologyIssue } from "../errors.ts";
import { formatIpv4, nthAddress } from "../ipv4.ts";
import type { NodeFile } from "../runtime/deployment.ts";
import { readKeepalivedConf } from "./keepalived-conf.ts";
import { KEEPALIVED_CONF, renderTrackScript, scriptPath } from "./render-keepalived.ts";
import { NGINX_CONF } from "./render-nginx.ts";
import type { InstanceMember, ResolvedInstance, ResolvedTopology } from "./resolve.ts";

export const MAX_CONFIG_BYTES = 256 * 1024;

export interface ByoResult {
  resolved: ResolvedTopology;
  /** Files per node taken from the user (after placeholder substitution). */
  files: Map<string, NodeFile[]>;
  /** `${node}:${pathInNode}` → the user's file, to point config-test errors at it. */
  sources: Map<string, string>;
  warnings: string[];
}

export async function loadByoConfigs(t: ResolvedTopology, dir: string | undefined): Promise<ByoResult> {
  const result: ByoResult = { resolved: t, files: new Map(), sources: new Map(), warnings: [] };
  if (!t.byo.keepalived && !t.byo.nginx) return result;
  const issues: TopologyIssue[] = [];
  const base = dir ?? process.cwd();

  const read = async (field: string, path: string): Promise<{ file: string; text: string } | undefined> => {
    if (isAbsolute(path) || relative(base, resolve(base, path)).startsWith("..")) {
      issues.push({ path: field, message: `${path} is outside the topology's folder`, fix: "put the file next to the topology file and use a relative path" });
      return undefined;
    }
    const file = resolve(base, path);
    try {
      // A symbolic link inside the folder may point anywhere: judge where it really leads.
      const real = await realpath(file);
      const inside = relative(await realpath(base), real);
      if (isAbsolute(inside) || inside.startsWith("..")) {
        issues.push({ path: field, message: `${path} leads (through a symbolic link) to ${real}, outside the topology's folder`, fix: "put the file itself next to the topology file" });
        return undefined;
      }
      const text = await readFile(file, "utf8");
      if (text.length > MAX_CONFIG_BYTES) {
        issues.push({ path: field, message: `${path} is larger than ${MAX_CONFIG_BYTES} bytes`, file: path });
        return undefined;
      }
      return { file: path, text };
    } catch {
      issues.push({ path: field, message: `cannot read ${path}`, fix: "check the path (relative to the topology file)" });
      return undefined;
    }
  };

  const addFile = (node: string, f: NodeFile, source: string) => {
    const list = result.files.get(node) ?? [];
    list.push(f);
    result.files.set(node, list);
    result.sources.set(`${node}:${f.path}`, source);
  };

  if (t.byo.nginx) {
    const conf = await read("nginx.config", t.byo.nginx);
    if (conf) {
      for (const lb of t.lbs) {
        const text = substitute(conf.text, t, lb.name, conf.file, issues);
        addFile(lb.name, { path: NGINX_CONF, content: text }, conf.file);
      }
      conf.text.split("\n").forEach((line, i) => {
        if (/\bslow_start=/.test(line)) result.warnings.push(`${conf.file}:${i + 1}: slow_start is an NGINX Plus parameter; open-source nginx rejects it`);
      });
    }
  }

  const members = new Map<string, { inst: ResolvedInstance; line: number; file: string }>();
  if (t.byo.keepalived) {
    for (const lb of t.lbs) {
      const path = t.byo.keepalived[lb.name];
      if (!path) continue;
      const conf = await read(`keepalived.config.${lb.name}`, path);
      if (!conf) continue;
      const text = substitute(conf.text, t, lb.name, conf.file, issues);
      addFile(lb.name, { path: KEEPALIVED_CONF, content: text }, conf.file);
      // Scripts declared in the topology are installed at /etc/keepalived/<name>.sh for the file to use.
      for (const [name, spec] of Object.entries(t.vrrp.scripts)) {
        addFile(lb.name, { path: scriptPath(name), content: renderTrackScript(name, spec), mode: 0o755 }, "(topology)");
      }
      const summary = readKeepalivedConf(text);
      for (const k of summary.keywords) {
        if (k.keyword === "nb_get_retry") {
          // keepalived 2.x knows nb_get_retry only in HTTP_GET / SSL_GET (deprecated there); elsewhere it is unknown.
          result.warnings.push(
            k.parent === "HTTP_GET" || k.parent === "SSL_GET"
              ? `${conf.file}:${k.line}: nb_get_retry is the old name; current keepalived calls it \`retry\` (it still reads it here, with a deprecation warning)`
              : `${conf.file}:${k.line}: nb_get_retry is not a keyword of ${k.parent ?? "this block"} (only HTTP_GET and SSL_GET had it, as the old name of \`retry\`): keepalived ignores it, so the checker keeps retry 1, and \`keepalived --config-test\` rejects it; write \`retry\``,
          );
        }
      }
      for (const d of summary.instances) {
        const where = { file: conf.file, line: d.line };
        if (d.vrid === undefined || d.priority === undefined || d.vips.length === 0) {
          issues.push({ path: `keepalived.config.${lb.name}`, message: `vrrp_instance ${d.name} needs virtual_router_id, priority and at least one virtual_ipaddress`, ...where });
          continue;
        }
        if (d.nopreempt && d.state === "MASTER") {
          result.warnings.push(`${conf.file}:${d.line}: vrrp_instance ${d.name} has nopreempt with state MASTER; keepalived ignores nopreempt then (use state BACKUP on every node)`);
        }
        if (d.authPass && d.authPass.length > 8) {
          result.warnings.push(`${conf.file}:${d.line}: auth_pass of ${d.name} is ${d.authPass.length} characters; keepalived uses only the first 8`);
        }
        const member: InstanceMember = { node: lb.name, state: d.state === "MASTER" ? "MASTER" : "BACKUP", priority: d.priority };
        const known = members.get(d.name);
        if (known) {
          known.inst.members.push(member);
          if (known.inst.vrid !== d.vrid) {
            result.warnings.push(`${conf.file}:${d.line}: ${d.name} has VRID ${d.vrid} here but ${known.inst.vrid} in ${known.file}; the nodes will not see each other`);
          }
        } else {
          members.set(d.name, {
            file: conf.file,
            line: d.line,
            inst: {
              name: d.name,
              vrid: d.vrid,
              vips: d.vips,
              version: summary.version ?? 2,
              advertIntMs: Math.round((d.advertInt ?? 1) * 1000),
              members: [member],
              nopreempt: d.nopreempt,
              preemptDelayS: d.preemptDelay ?? 0,
              auth: d.authPass ? { type: "PASS", pass: d.authPass } : undefined,
              unicast: d.unicast,
              mcastSrcIp: false,
              track: d.track,
              notify: false,
            },
          });
        }
      }
    }
  }
  if (issues.length > 0) throw new TopologyError(issues);
  if (t.byo.keepalived) {
    const instances = [...members.values()].map((m) => m.inst);
    result.resolved = { ...t, vrrp: { ...t.vrrp, version: instances[0]?.version ?? t.vrrp.version, instances } };
  }
  return result;
}

const PLACEHOLDER = /\{\{\s*([a-z]+)(?::([A-Za-z0-9._-]+))?\s*\}\}/g;

/** Replace placeholders; unknown ones become issues pointing at their line. */
export function substitute(text: string, t: ResolvedTopology, self: string, file: string, issues: TopologyIssue[]): string {
  return text
    .split("\n")
    .map((line, i) =>
      line.replace(PLACEHOLDER, (whole, name: string, arg: string | undefined) => {
        const fail = (message: string) => {
          issues.push({ path: "placeholder", message: `${whole}: ${message}`, file, line: i + 1, fix: "placeholders: {{interface}} {{self}} {{node:NAME}} {{host:N}} {{prefix}} {{subnet}}" });
          return whole;
        };
        switch (name) {
          case "interface":
            return "eth0";
          case "self":
            return t.nodes.find((n) => n.name === self)!.address;
          case "node": {
            const node = t.nodes.find((n) => n.name === arg);
            return node ? node.address : fail(`no node named "${arg ?? ""}" (nodes: ${t.nodes.map((n) => n.name).join(", ")})`);
          }
          case "host": {
            const n = Number(arg);
            const max = 2 ** (32 - t.prefix) - 2;
            return Number.isInteger(n) && n >= 2 && n <= max ? formatIpv4(nthAddress(t.subnet, n)) : fail(`host number must be 2–${max}`);
          }
          case "prefix":
            return String(t.prefix);
          case "subnet":
            return t.subnetText;
          default:
            return fail("unknown placeholder");
        }
      }),
    )
    .join("\n");
}
