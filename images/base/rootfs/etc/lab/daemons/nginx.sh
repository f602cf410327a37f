# nginx: daemonizes itself; graceful stop is QUIT (finish in-flight requests), as `systemctl stop nginx`.
procname=nginx
pidfiles=(/run/nginx.pid)
daemon_start() { nginx 2>>"$LOG_DIR/nginx.log"; }
daemon_ready() { test -s /run/nginx.pid; }
daemon_stop() { nginx -s quit 2>/dev/null || pkill -QUIT -x nginx; }
