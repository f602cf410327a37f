/**
 * The LVS tier, rendered as a person would write it after the seed document: the directors'
 * `virtual_server` block (keepalived programs IPVS from it, and health-checks every real server),
 * and what each real server and director needs from its kernel:
 *
 *   DR   real servers hold the VIP on `lo` (/32: they accept packets addressed to it) and never
 *        answer or announce ARP for it (arp_ignore 1, arp_announce 2, as the document sets them);
 *        they answer the clients directly. Directors need no forwarding.
 *   NAT  the director rewrites the destination to the real server and, on the way back, the source
 *        to the VIP: replies must pass through it. A one-segment lab has no separate "outside", so the
 *        real servers route the clients' addresses through the VIP (held by the master director),
 *        and the directors forward (ip_forward 1) without telling the real servers about the shorter
 *        way (no ICMP redirects sent, none accepted).
 */
import type { NodeFile } from "../runtime/deployment.ts";
import type { ResolvedLvs, ResolvedTopology } from "./resolve.ts";

export const ON_BOOT = "/etc/lab/on-boot.sh";

/** keepalived's `virtual_server` block for the directors. */
export function renderVirtualServer(lvs: ResolvedLvs): string[] {
  const c = lvs.check;
  const out: string[] = [];
  out.push(`virtual_server ${lvs.vip} ${lvs.port} {`);
  out.push(`    delay_loop ${c.delayLoop}`);
  out.push(`    lb_algo ${lvs.algo}`);
  out.push(`    lb_kind ${lvs.mode}`);
  if (lvs.persistenceTimeoutS !== undefined) out.push(`    persistence_timeout ${lvs.persistenceTimeoutS}`);
  out.push(`    protocol ${lvs.protocol}`);
  for (const rs of lvs.realServers) {
    out.push("");
    out.push(`    real_server ${rs.address} ${rs.port} {    # ${rs.node}`);
    out.push(`        weight ${rs.weight}`);
    out.push(`        ${c.type} {`);
    if (c.type === "HTTP_GET") {
      out.push("            url {");
      out.push(`                path ${c.path ?? "/"}`);
      out.push(`                status_code ${c.statusCode ?? 200}`);
      out.push("            }");
    }
    out.push(`            connect_port ${rs.port}`);
    out.push(`            connect_timeout ${c.connectTimeout}`);
    out.push(`            retry ${c.retry}    # the seed's nb_get_retry: unknown inside TCP_CHECK, deprecated in HTTP_GET`);
    out.push(`            delay_before_retry ${c.delayBeforeRetry}`);
    out.push("        }");
    out.push("    }");
  }
  out.push("}");
  return out;
}

export interface NodeNetworkSetup {
  files: NodeFile[];
  sysctls: Record<string, string>;
}

const DR_REAL_SERVER_SYSCTLS = {
  "net.ipv4.conf.all.arp_ignore": "1",
  "net.ipv4.conf.default.arp_ignore": "1",
  "net.ipv4.conf.lo.arp_ignore": "1",
  "net.ipv4.conf.all.arp_announce": "2",
  "net.ipv4.conf.default.arp_announce": "2",
  "net.ipv4.conf.lo.arp_announce": "2",
} as const;

const NO_REDIRECTS_ACCEPTED = {
  "net.ipv4.conf.all.accept_redirects": "0",
  "net.ipv4.conf.default.accept_redirects": "0",
  "net.ipv4.conf.eth0.accept_redirects": "0",
} as const;

/** What a real server needs (empty when the node is none): its boot hook and its sysctls. */
export function realServerSetup(t: ResolvedTopology, nodeName: string): NodeNetworkSetup {
  const lvs = t.lvs;
  if (!lvs || !lvs.realServers.some((r) => r.node === nodeName)) return { files: [], sysctls: {} };
  if (lvs.mode === "DR") {
    const script = [
      "#!/bin/sh",
      `# LVS-DR real server of ${lvs.vip}:${lvs.port}: the director forwards the clients' packets unchanged`,
      "# (destination: the VIP), so this node must own the VIP to accept them — on lo, /32, where it never",
      "# answers ARP for it (arp_ignore 1, arp_announce 2). Its answers go straight to the clients.",
      `ip addr replace ${lvs.vip}/32 dev lo`,
      "",
    ].join("\n");
    return { files: [{ path: ON_BOOT, content: script, mode: 0o755 }], sysctls: { ...DR_REAL_SERVER_SYSCTLS } };
  }
  const script = [
    "#!/bin/sh",
    `# LVS-NAT real server of ${lvs.vip}:${lvs.port}: the director rewrote the destination to this node, and`,
    "# must rewrite the answers back: the clients' addresses are routed through the VIP (the master director).",
    ...lvs.clientAddresses.map((c) => `ip route replace ${c}/32 via ${lvs.vip} dev eth0`),
    "",
  ].join("\n");
  return { files: [{ path: ON_BOOT, content: script, mode: 0o755 }], sysctls: { ...NO_REDIRECTS_ACCEPTED } };
}

/** A director's sysctls: NAT forwards (and sends no redirects); DR needs nothing of the kind. */
export function directorSysctls(t: ResolvedTopology): Record<string, string> {
  if (t.lvs?.mode !== "NAT") return {};
  return {
    "net.ipv4.ip_forward": "1",
    "net.ipv4.conf.all.send_redirects": "0",
    "net.ipv4.conf.default.send_redirects": "0",
    "net.ipv4.conf.eth0.send_redirects": "0",
  };
}
