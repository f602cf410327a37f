# Sourced by nacos-start and /etc/lab/daemons/nacos.sh: the node's Nacos settings.
#
# The settings are the environment variables of the official nacos/nacos-server image (MODE,
# NACOS_SERVERS, NACOS_SERVER_IP, PREFER_HOST_MODE, NACOS_APPLICATION_PORT, JVM_XMS/XMX/XMN,
# SPRING_DATASOURCE_PLATFORM, MYSQL_SERVICE_*, NACOS_AUTH_*, …). They are read from, in order of
# precedence: the file $NACOS_ENV_FILE (default /etc/lab/nacos.env, written by the lab), the
# process environment (docker run -e), and the defaults below.
#
# The file has one KEY=VALUE a line, like `docker run --env-file`: the value is taken literally
# (one pair of surrounding quotes is removed), `#` starts a comment line, nothing is executed.
#   MODE=cluster
#   NACOS_SERVERS=10.213.200.11:8848 10.213.200.12:8848 10.213.200.13:8848
#   NACOS_SERVER_IP=10.213.200.11

NACOS_HOME=/home/nacos
NACOS_ENV_FILE=${NACOS_ENV_FILE:-/etc/lab/nacos.env}

nacos_read_env_file() {
  local file=$1 line key val n=0
  [ -f "$file" ] || return 0
  while IFS= read -r line || [ -n "$line" ]; do
    n=$((n + 1))
    line=${line%$'\r'}
    [[ $line =~ ^[[:space:]]*(#.*)?$ ]] && continue
    if [[ ! $line =~ ^[[:space:]]*(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]]; then
      echo "nacos: $file:$n is not KEY=VALUE, ignored: $line" >&2
      continue
    fi
    key=${BASH_REMATCH[2]}
    val=${BASH_REMATCH[3]}
    if [[ $val =~ ^\"(.*)\"$ ]] || [[ $val =~ ^\'(.*)\'$ ]]; then val=${BASH_REMATCH[1]}; fi
    export "$key=$val"
  done <"$file"
}

nacos_load_env() {
  nacos_read_env_file "$NACOS_ENV_FILE"
  # Defaults: those of the official image, except the heap (1g there; three JVMs share a small
  # machine here) and MODE's storage (see SPRING_DATASOURCE_PLATFORM).
  : "${MODE:=cluster}"                      # standalone | cluster
  : "${NACOS_SERVERS:=}"                    # cluster members "ip:port ip:port …" (spaces, commas or newlines)
  : "${NACOS_SERVER_IP:=}"                  # this member's address (default: the first non-loopback one)
  : "${PREFER_HOST_MODE:=ip}"               # ip | hostname
  : "${NACOS_APPLICATION_PORT:=8848}"       # HTTP; gRPC is +1000 (clients) and +1001 (members), raft -1000
  : "${SERVER_SERVLET_CONTEXTPATH:=/nacos}"
  : "${FUNCTION_MODE:=all}"                 # all | config | naming
  : "${JVM_XMS:=256m}"
  : "${JVM_XMX:=512m}"
  : "${JVM_XMN:=128m}"
  : "${JVM_MS:=128m}"                       # -XX:MetaspaceSize
  : "${JVM_MMS:=320m}"                      # -XX:MaxMetaspaceSize
  : "${JAVA_OPT_EXT:=}"                     # more JVM options (given to the JVM, before the main class)
  # Lab only (not in the official image): C1 only and the serial GC. With three JVMs starting at
  # once on 2 cores, a member answers in 15-35 s instead of 55-80 s (C2 and G1 threads fight for
  # the CPUs), and RSS is ~50 MiB lower. Set it empty for the JVM's defaults (C2, G1).
  : "${JVM_LAB_OPTS=-XX:TieredStopAtLevel=1 -XX:+UseSerialGC}"
  : "${NACOS_DEBUG:=n}"                     # y: JDWP on port 9555
  : "${SPRING_DATASOURCE_PLATFORM:=}"       # empty or derby: embedded storage; mysql: MYSQL_SERVICE_*
  : "${EMBEDDED_STORAGE:=}"                 # accepted for compatibility; storage follows SPRING_DATASOURCE_PLATFORM
  : "${MYSQL_SERVICE_HOST:=}"
  : "${MYSQL_SERVICE_PORT:=3306}"
  : "${MYSQL_SERVICE_DB_NAME:=}"
  : "${MYSQL_SERVICE_USER:=}"
  : "${MYSQL_SERVICE_PASSWORD:=}"
  : "${MYSQL_SERVICE_DB_PARAM:=characterEncoding=utf8&connectTimeout=1000&socketTimeout=3000&autoReconnect=true&useSSL=false}"
  : "${MYSQL_DATABASE_NUM:=1}"
  : "${DB_POOL_CONNECTION_TIMEOUT:=30000}"
  : "${NACOS_AUTH_ENABLE:=false}"
  : "${NACOS_AUTH_SYSTEM_TYPE:=nacos}"
  : "${NACOS_AUTH_TOKEN:=}"                 # base64 of at least 32 bytes; required when auth is on
  : "${NACOS_AUTH_TOKEN_EXPIRE_SECONDS:=18000}"
  : "${NACOS_AUTH_CACHE_ENABLE:=false}"
  : "${NACOS_AUTH_USER_AGENT_AUTH_WHITE_ENABLE:=false}"
  : "${NACOS_AUTH_IDENTITY_KEY:=}"          # required when auth is on
  : "${NACOS_AUTH_IDENTITY_VALUE:=}"
  : "${NACOS_SECURITY_IGNORE_URLS:=/,/error,/**/*.css,/**/*.js,/**/*.html,/**/*.map,/**/*.svg,/**/*.png,/**/*.ico,/console-ui/public/**,/v1/auth/**,/v1/console/health/**,/actuator/**,/v1/console/server/**}"
  : "${TOMCAT_ACCESSLOG_ENABLED:=false}"
  : "${USE_ONLY_SITE_INTERFACES:=}"
  : "${PREFERRED_NETWORKS:=}"
  : "${IGNORED_INTERFACES:=}"
  : "${NACOS_START_WAIT:=180}"              # lab: seconds `labctl start nacos` waits for HTTP (0: don't wait)
  export MODE NACOS_SERVERS NACOS_SERVER_IP PREFER_HOST_MODE NACOS_APPLICATION_PORT SERVER_SERVLET_CONTEXTPATH \
    FUNCTION_MODE JVM_XMS JVM_XMX JVM_XMN JVM_MS JVM_MMS JAVA_OPT_EXT JVM_LAB_OPTS NACOS_DEBUG SPRING_DATASOURCE_PLATFORM \
    EMBEDDED_STORAGE MYSQL_SERVICE_HOST MYSQL_SERVICE_PORT MYSQL_SERVICE_DB_NAME MYSQL_SERVICE_USER \
    MYSQL_SERVICE_PASSWORD MYSQL_SERVICE_DB_PARAM MYSQL_DATABASE_NUM DB_POOL_CONNECTION_TIMEOUT NACOS_AUTH_ENABLE \
    NACOS_AUTH_SYSTEM_TYPE NACOS_AUTH_TOKEN NACOS_AUTH_TOKEN_EXPIRE_SECONDS NACOS_AUTH_CACHE_ENABLE \
    NACOS_AUTH_USER_AGENT_AUTH_WHITE_ENABLE NACOS_AUTH_IDENTITY_KEY NACOS_AUTH_IDENTITY_VALUE \
    NACOS_SECURITY_IGNORE_URLS TOMCAT_ACCESSLOG_ENABLED USE_ONLY_SITE_INTERFACES PREFERRED_NETWORKS \
    IGNORED_INTERFACES NACOS_START_WAIT
}

# The HTTP base of this node as seen from inside it.
nacos_local_url() {
  printf 'http://127.0.0.1:%s%s' "$NACOS_APPLICATION_PORT" "$SERVER_SERVLET_CONTEXTPATH"
}

# Exit 0 once the server answers HTTP (Spring context up, Tomcat listening).
nacos_alive() {
  curl -fsS -o /dev/null -m 2 "$(nacos_local_url)/v1/console/health/liveness" 2>/dev/null
}
