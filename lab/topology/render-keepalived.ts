/**
 * keepalived.conf for one load balancer, and the scripts it runs. The output is what a person would
 * write by hand after the tutorials — comments included — so `failover-lab render` can teach with it.
 */
import { renderVirtualServer } from "./render-lvs.ts";
import type { ResolvedInstance, ResolvedTopology } from "./resolve.ts";
import type { TrackScriptSpec } from "./schema.ts";

export const KEEPALIVED_CONF = "/etc/keepalived/keepalived.conf";
export const SCRIPT_DIR = "/etc/keepalived";
export const NOTIFY_SCRIPT = "/etc/keepalived/lab-notify.sh";

export interface RenderedFile {
  path: string;
  content: string;
  mode?: number;
}

/** keepalived.conf of a load balancer (VRRP) or of an LVS director (VRRP and the virtual_server). */
export function renderKeepalived(t: ResolvedTopology, nodeName: string): RenderedFile[] {
  const node = t.lbs.find((n) => n.name === nodeName) ?? t.directors.find((n) => n.name === nodeName);
  if (!node) throw new Error(`${nodeName} is not a load balancer or director of ${t.name}`);
  const mine = t.vrrp.instances.filter((i) => i.members.some((m) => m.node === nodeName));
  const scripts = new Set(mine.flatMap((i) => i.track));
  const lines: string[] = [];
  lines.push(`! keepalived.conf of ${nodeName} (lab ${t.name}), rendered by failover-lab`);
  lines.push("global_defs {");
  lines.push(`    router_id ${nodeName}`);
  lines.push(`    vrrp_version ${t.vrrp.version}`);
  lines.push("    script_user root");
  lines.push("    enable_script_security");
  lines.push("    max_auto_priority");
  if (node.kind === "director" && t.lvs) {
    lines.push("    checker_log_all_failures    # log every failed check attempt, not only the one that takes a real server out");
  }
  lines.push("}");
  for (const name of scripts) {
    const spec = t.vrrp.scripts[name]!;
    lines.push("");
    lines.push(`vrrp_script ${name} {`);
    lines.push(`    script "${scriptPath(name)}"`);
    lines.push(`    interval ${spec.interval}`);
    if (spec.timeout !== undefined) lines.push(`    timeout ${spec.timeout}`);
    lines.push(`    fall ${spec.fall}`);
    lines.push(`    rise ${spec.rise}`);
    if (spec.weight !== 0) lines.push(`    weight ${spec.weight}    # ${spec.weight < 0 ? "while failing" : "while succeeding"}`);
    else lines.push("    # weight 0: a failing script puts the instance in FAULT state (it sends priority 0)");
    lines.push("}");
  }
  for (const inst of mine) {
    lines.push("");
    lines.push(...renderInstance(t, inst, nodeName, node.address));
  }
  if (node.kind === "director" && t.lvs) {
    lines.push("");
    lines.push(...renderVirtualServer(t.lvs));
  }
  const files: RenderedFile[] = [{ path: KEEPALIVED_CONF, content: `${lines.join("\n")}\n` }];
  for (const name of scripts) files.push({ path: scriptPath(name), content: renderTrackScript(name, t.vrrp.scripts[name]!), mode: 0o755 });
  if (mine.some((i) => i.notify !== false)) files.push({ path: NOTIFY_SCRIPT, content: renderNotifyScript(mine), mode: 0o755 });
  return files;
}

function renderInstance(t: ResolvedTopology, inst: ResolvedInstance, nodeName: string, address: string): string[] {
  const me = inst.members.find((m) => m.node === nodeName)!;
  const out: string[] = [];
  out.push(`vrrp_instance ${inst.name} {`);
  out.push(`    state ${me.state}`);
  out.push("    interface eth0");
  out.push(`    virtual_router_id ${inst.vrid}`);
  out.push(`    priority ${me.priority}`);
  out.push(`    advert_int ${formatSeconds(inst.advertIntMs)}`);
  if (inst.nopreempt) out.push("    nopreempt");
  if (inst.preemptDelayS > 0) out.push(`    preempt_delay ${inst.preemptDelayS}`);
  if (inst.mcastSrcIp) out.push(`    mcast_src_ip ${address}`);
  if (inst.unicast) {
    out.push(`    unicast_src_ip ${address}`);
    out.push("    unicast_peer {");
    for (const peer of inst.members.filter((m) => m.node !== nodeName)) {
      out.push(`        ${t.nodes.find((n) => n.name === peer.node)!.address}`);
    }
    out.push("    }");
  }
  if (inst.auth && inst.version === 3) {
    out.push("    ! no authentication block: VRRPv3 (RFC 5798) removed authentication");
  } else if (inst.auth) {
    out.push("    authentication {");
    out.push(`        auth_type ${inst.auth.type}`);
    out.push(`        auth_pass ${inst.auth.pass}`);
    out.push("    }");
  }
  out.push("    virtual_ipaddress {");
  for (const vip of inst.vips) out.push(`        ${vip}/${t.prefix} dev eth0`);
  out.push("    }");
  if (inst.track.length > 0) {
    out.push("    track_script {");
    for (const s of inst.track) out.push(`        ${s}`);
    out.push("    }");
  }
  if (inst.notify !== false) out.push(`    notify "${NOTIFY_SCRIPT}"`);
  out.push("}");
  return out;
}

export function scriptPath(name: string): string {
  return `${SCRIPT_DIR}/${name}.sh`;
}

export function renderTrackScript(name: string, spec: TrackScriptSpec): string {
  switch (spec.check) {
    case "nginx-running":
      return [
        "#!/bin/bash",
        `# ${name}: healthy while an nginx process exists (exit 1 when there is none).`,
        "pgrep -x nginx >/dev/null",
        "",
      ].join("\n");
    case "restart-nginx-or-stop-keepalived":
      return [
        "#!/bin/bash",
        `# ${name}: the tutorials' script. If nginx is gone, start it; if it still does not run`,
        "# 2 s later, stop keepalived (SIGTERM, as `killall keepalived`) so the backup takes over.",
        "# Like the original it always exits 0: keepalived only ever sees it succeed.",
        "if ! pgrep -x nginx >/dev/null; then",
        `    echo "$EPOCHREALTIME ${name}: nginx is not running; starting it" >>/var/log/lab/check.log`,
        "    nginx 2>>/var/log/lab/check.log",
        "    sleep 2",
        "    if ! pgrep -x nginx >/dev/null; then",
        `        echo "$EPOCHREALTIME ${name}: nginx did not start; stopping keepalived" >>/var/log/lab/check.log`,
        "        pkill -TERM -x keepalived",
        "    fi",
        "fi",
        "exit 0",
        "",
      ].join("\n");
    case "command":
      return ["#!/bin/bash", `# ${name}: your command; exit 0 = healthy.`, spec.command!, ""].join("\n");
  }
}

function renderNotifyScript(instances: ResolvedInstance[]): string {
  const custom = instances.map((i) => i.notify).find((n): n is string => typeof n === "string");
  return [
    "#!/bin/bash",
    "# keepalived notify hook: called as <GROUP|INSTANCE> <name> <MASTER|BACKUP|FAULT|STOP> <priority>.",
    'echo "$EPOCHREALTIME $*" >>/var/log/lab/notify.log',
    ...(custom ? [custom] : []),
    "",
  ].join("\n");
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? String(ms / 1000) : (ms / 1000).toFixed(2).replace(/0$/, "");
}
