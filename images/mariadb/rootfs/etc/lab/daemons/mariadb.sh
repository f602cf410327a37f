# MariaDB server in the foreground (lab-spawn; its log is /var/log/lab/mariadb.log), configured by
# /etc/mysql/mariadb.conf.d/60-lab.cnf, listening on every address, port MARIADB_PORT (default
# 3306) from /etc/lab/mariadb.env. Before it starts, lab-mariadb-init makes the data directory,
# the Nacos database and user, and loads the Nacos schema, as needed. Stop is SIGTERM (clean shutdown).
procname=mariadbd
pidfiles=(/run/mysqld/mysqld.pid /run/mysqld/init.pid)
stop_timeout=30

daemon_start() {
  lab-mariadb-init 2>&1 | lab-stamp >>"$LOG_DIR/mariadb.log"
  ((PIPESTATUS[0] == 0)) || return 1
  local port
  port=$(lab-mariadb-init port) || return 1
  lab-spawn mariadb mariadbd --port="$port"
}

daemon_ready() { mariadb -e 'SELECT 1' >/dev/null 2>&1; }
