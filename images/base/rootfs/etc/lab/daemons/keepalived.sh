# keepalived in the foreground (-n), logging to the console (-l) with details (-D); lab-spawn stamps
# every line and appends it to /var/log/lab/keepalived.log. SIGTERM makes the master send priority 0.
procname=keepalived
pidfiles=(/run/keepalived.pid /run/vrrp.pid /run/checkers.pid /run/keepalived/keepalived.pid /run/keepalived/vrrp.pid /run/keepalived/checkers.pid)
daemon_start() { lab-spawn keepalived keepalived -n -l -D -f /etc/keepalived/keepalived.conf; }
daemon_ready() { test -s /run/keepalived.pid; }
