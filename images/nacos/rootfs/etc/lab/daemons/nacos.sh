# Nacos server: a JVM in the foreground (its process is named "nacos"), started by
# /home/nacos/bin/nacos-start through lab-spawn, configured from /etc/lab/nacos.env (see
# /home/nacos/bin/nacos-env.sh for the variables). A JVM takes longer than labctl's 10 s to come
# up, so start waits here until the server answers HTTP (NACOS_START_WAIT seconds, default 180;
# 0 = return as soon as the JVM runs). "Answers HTTP" is not "the cluster is ready": a member of a
# cluster with embedded storage only serves configs once the raft group has a leader
# (GET /nacos/v1/console/health/readiness says so). Stop is SIGTERM (Spring's graceful shutdown).
procname=nacos
pidfiles=()
stop_timeout=30
. /home/nacos/bin/nacos-env.sh

daemon_start() {
  nacos_load_env
  lab-spawn nacos /home/nacos/bin/nacos-start || return 1
  [ "$NACOS_START_WAIT" = 0 ] && return 0
  local started=${EPOCHREALTIME/./} deadline=$((SECONDS + NACOS_START_WAIT)) grace=$((SECONDS + 3)) ms
  while ((SECONDS < deadline)); do
    if nacos_alive; then
      ms=$(((${EPOCHREALTIME/./} - started) / 1000))
      echo "nacos answers HTTP after $((ms / 1000)).$((ms % 1000 / 100)) s"
      return 0
    fi
    # The start script refused the settings, or the JVM died: fail now, not at the deadline.
    if ((SECONDS > grace)) && ! pgrep -x nacos >/dev/null && ! pgrep -x nacos-start >/dev/null; then
      echo "nacos exited during start-up" >&2
      return 1
    fi
    sleep 0.2
  done
  echo "nacos did not answer HTTP within $NACOS_START_WAIT s" >&2
  return 1
}

daemon_ready() {
  nacos_load_env
  if [ "$NACOS_START_WAIT" = 0 ]; then running; else nacos_alive; fi
}
