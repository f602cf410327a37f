/**
 * nginx.conf for a load balancer: an L7 `http` reverse proxy (every response gets X-Lab-LB naming
 * the load balancer) or an L4 `stream` proxy (the backend's X-Lab-Peer then names it by address),
 * and, with a Nacos cluster, its HTTP port through an `http` upstream and its gRPC port through a
 * `stream` upstream.
 */
import type { RenderedFile } from "./render-keepalived.ts";
import type { ResolvedTopology, ResolvedUpstreamServer } from "./resolve.ts";
import { durationMs } from "./schema.ts";

export const NGINX_CONF = "/etc/nginx/nginx.conf";

export function renderNginx(t: ResolvedTopology, nodeName: string): RenderedFile {
  const n = t.nginx;
  const upstream = [
    "    upstream backends {",
    ...balanceLines(t),
    ...n.servers.map((s) => `        server ${s.address}:${s.port}${serverParams(s)};`),
    "    }",
  ];
  const proxy = n.proxy;
  const head = [
    `# nginx.conf of ${nodeName} (lab ${t.name}), rendered by failover-lab`,
    "user www-data;",
    "worker_processes 1;",
    "pid /run/nginx.pid;",
    "error_log /var/log/nginx/error.log warn;",
    "include /etc/nginx/modules-enabled/*.conf;",
    "",
    "events {",
    "    worker_connections 4096;",
    "}",
    "",
  ];
  // The web backends (none in a Nacos-only topology), in the block of their mode.
  const web = n.servers.length === 0 ? [] : n.mode === "http"
      ? [
          ...upstream,
          "",
          "    server {",
          `        listen ${n.listen} default_server;`,
          "        location / {",
          "            proxy_pass http://backends;",
          "            proxy_http_version 1.1;",
          `            proxy_next_upstream ${proxy.nextUpstream.join(" ")};`,
          `            proxy_next_upstream_tries ${proxy.nextUpstreamTries};`,
          `            proxy_next_upstream_timeout ${seconds(proxy.nextUpstreamTimeout)};`,
          `            proxy_connect_timeout ${seconds(proxy.connectTimeout)};`,
          `            proxy_read_timeout ${seconds(proxy.readTimeout)};`,
          "            add_header X-Lab-LB $hostname always;",
          "        }",
          "    }",
        ]
      : [
          ...upstream,
          "",
          "    server {",
          `        listen ${n.listen};`,
          "        proxy_pass backends;",
          `        proxy_next_upstream ${proxy.nextUpstream.includes("off") ? "off" : "on"};`,
          `        proxy_next_upstream_tries ${proxy.nextUpstreamTries};`,
          `        proxy_next_upstream_timeout ${seconds(proxy.nextUpstreamTimeout)};`,
          `        proxy_connect_timeout ${seconds(proxy.connectTimeout)};`,
          `        proxy_timeout ${seconds(proxy.readTimeout)};`,
          "    }",
        ];
  const http = [...(n.mode === "http" ? web : []), ...nacosHttp(t)];
  const stream = [...(n.mode === "stream" ? web : []), ...nacosStream(t)];
  const body = [
    ...(http.length ? ["http {", "    access_log off;", "    keepalive_timeout 65;", ...http, "}"] : []),
    ...(http.length && stream.length ? [""] : []),
    ...(stream.length ? ["stream {", ...stream, "}"] : []),
  ];
  return { path: NGINX_CONF, content: `${[...head, ...body].join("\n")}\n` };
}

/**
 * Nacos' open API and console (HTTP 8848) through an `http` upstream of the members. Its name has
 * no underscore: Nacos' Tomcat rejects a Host header with one (400), and nginx sends the upstream's
 * name as Host unless told otherwise; it is told anyway (the client's Host is passed on). Every
 * response names the load balancer (X-Lab-LB) and the member(s) nginx tried (X-Lab-Upstream, the
 * last one answered).
 */
function nacosHttp(t: ResolvedTopology): string[] {
  const nacos = t.nacos;
  if (!nacos) return [];
  const p = nacos.proxy;
  return [
    ...(t.nginx.servers.length && t.nginx.mode === "http" ? [""] : []),
    `    # Nacos open API and console: the ${nacos.members.length} members' HTTP port.`,
    "    upstream nacos {",
    ...nacos.members.map((m) => `        server ${m.address}:${nacos.httpPort}${nacosServerParams(t)};`),
    "    }",
    "",
    "    server {",
    `        listen ${nacos.httpPort};`,
    "        location / {",
    "            proxy_pass http://nacos;",
    "            proxy_http_version 1.1;",
    "            proxy_set_header Host $host;",
    "            proxy_set_header X-Real-IP $remote_addr;",
    "            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
    `            proxy_next_upstream ${p.nextUpstream.join(" ")};`,
    `            proxy_connect_timeout ${seconds(p.connectTimeout)};`,
    `            proxy_read_timeout ${seconds(p.readTimeout)};`,
    "            add_header X-Lab-LB $hostname always;",
    "            add_header X-Lab-Upstream $upstream_addr always;",
    "        }",
    "    }",
  ];
}

/**
 * Nacos 2.x clients' gRPC (9848) through a `stream` (L4) upstream: a client holds one long-lived
 * HTTP/2 connection to one member and opens a new one (to whichever member nginx picks) when it breaks.
 */
function nacosStream(t: ResolvedTopology): string[] {
  const nacos = t.nacos;
  if (!nacos) return [];
  const p = nacos.proxy;
  return [
    ...(t.nginx.servers.length && t.nginx.mode === "stream" ? [""] : []),
    `    # Nacos client gRPC: the ${nacos.members.length} members' port ${nacos.grpcPort} (HTTP ${nacos.httpPort} + 1000).`,
    "    upstream nacos-grpc {",
    ...nacos.members.map((m) => `        server ${m.address}:${nacos.grpcPort}${nacosServerParams(t)};`),
    "    }",
    "",
    "    server {",
    `        listen ${nacos.grpcPort};`,
    "        proxy_pass nacos-grpc;",
    `        proxy_next_upstream ${p.nextUpstream.includes("off") ? "off" : "on"};`,
    `        proxy_connect_timeout ${seconds(p.connectTimeout)};`,
    "        proxy_timeout 10m;",
    "    }",
  ];
}

function nacosServerParams(t: ResolvedTopology): string {
  const p = t.nacos!.proxy;
  return ` max_fails=${p.maxFails} fail_timeout=${seconds(p.failTimeout)}`;
}

function balanceLines(t: ResolvedTopology): string[] {
  const u = t.nginx.upstream;
  switch (u.balance) {
    case "round-robin":
      return [];
    case "least_conn":
      return ["        least_conn;"];
    case "ip_hash":
      return ["        ip_hash;"];
    case "hash":
      return [`        hash ${u.hashKey}${u.consistent ? " consistent" : ""};`];
  }
}

function serverParams(s: ResolvedUpstreamServer): string {
  const p: string[] = [];
  if (s.weight !== undefined) p.push(`weight=${s.weight}`);
  if (s.maxFails !== undefined) p.push(`max_fails=${s.maxFails}`);
  if (s.failTimeout !== undefined) p.push(`fail_timeout=${seconds(s.failTimeout)}`);
  if (s.maxConns !== undefined) p.push(`max_conns=${s.maxConns}`);
  if (s.backup) p.push("backup");
  if (s.down) p.push("down");
  return p.length ? ` ${p.join(" ")}` : "";
}

function seconds(value: number | string): string {
  const ms = durationMs(value);
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
