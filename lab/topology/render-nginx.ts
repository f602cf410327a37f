/**
 * nginx.conf for a load balancer: an L7 `http` reverse proxy (every response gets X-Lab-LB naming
 * the load balancer) or an L4 `stream` proxy (the backend's X-Lab-Peer then names it by address).
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
  const body =
    n.mode === "http"
      ? [
          "http {",
          "    access_log off;",
          "    keepalive_timeout 65;",
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
          "}",
        ]
      : [
          "stream {",
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
          "}",
        ];
  return { path: NGINX_CONF, content: `${[...head, ...body].join("\n")}\n` };
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
