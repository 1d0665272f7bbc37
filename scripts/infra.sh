#!/usr/bin/env bash
# Starts, stops and reports the local PostgreSQL, Redis and RabbitMQ of one
# profile (dev, test or bench) as ordinary background processes: no systemd,
# no `service`. Data, logs and pid files live under var/<profile>/, so the dev
# servers of `make run` and the test servers of `make test` run side by side.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"

usage() {
  cat <<'EOF'
usage: scripts/infra.sh start|stop|status|restart [all|postgres|redis|rabbitmq]...
                        [--profile dev|test|bench]

Runs the local PostgreSQL 15, Redis and RabbitMQ of a profile under
var/<profile>/{postgres,redis,rabbitmq} (data, logs, pid files).

  start    start the servers that are not running and wait until they answer
           (idempotent: a running server is left alone)
  stop     stop them by PID and wait until they are gone
  status   one line per server; exit status 0 only if all of them answer
  restart  stop, then start

  scripts/infra.sh [--profile P] rabbitmqctl ARGS...
           run rabbitmqctl against the profile's broker (as its user, with its
           Erlang cookie), e.g. `scripts/infra.sh rabbitmqctl list_queues`

The profile defaults to $SHOPSPHERE_PROFILE, else dev. Ports, URLs and
passwords come from scripts/profile.sh (see `. scripts/profile.sh dev`).
Environment: SHOPSPHERE_INFRA_TIMEOUT (seconds to wait for a server, 90).
EOF
}

# --- arguments ----------------------------------------------------------------
ACTION=""
PROFILE="${SHOPSPHERE_PROFILE:-dev}"
SERVERS=()
CTL_ARGS=()
while (($#)); do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --profile) [[ $# -ge 2 ]] || { usage >&2; exit 2; }; PROFILE="$2"; shift 2 ;;
    --profile=*) PROFILE="${1#--profile=}"; shift ;;
    start|stop|status|restart)
      [[ -z "$ACTION" ]] || { echo "infra: one action at a time" >&2; exit 2; }
      ACTION="$1"; shift ;;
    rabbitmqctl) ACTION=rabbitmqctl; shift; CTL_ARGS=("$@"); break ;;
    all) SERVERS+=(postgres redis rabbitmq); shift ;;
    postgres|postgresql|pg) SERVERS+=(postgres); shift ;;
    redis) SERVERS+=(redis); shift ;;
    rabbitmq|rabbit|amqp) SERVERS+=(rabbitmq); shift ;;
    *) echo "infra: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
[[ -n "$ACTION" ]] || { usage >&2; exit 2; }
((${#SERVERS[@]})) || SERVERS=(postgres redis rabbitmq)

# shellcheck source=scripts/profile.sh
. "$ROOT/scripts/profile.sh" "$PROFILE"
VAR="$SHOPSPHERE_VAR_DIR"
TIMEOUT="${SHOPSPHERE_INFRA_TIMEOUT:-90}"

# --- helpers ------------------------------------------------------------------
say() { echo "infra[$PROFILE]: $*"; }
die() { echo "infra[$PROFILE]: error: $*" >&2; exit 1; }

# Seconds since some point, with decimals, for "started in 1.2 s".
now() { echo "${EPOCHREALTIME:-$(date +%s.%N)}"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

IS_ROOT=0
[[ $(id -u) -eq 0 ]] && IS_ROOT=1

# The OS user a server runs as. PostgreSQL refuses to run as root and
# RabbitMQ's data must not be root's, so as root we use the users the Debian
# packages created; as anyone else the servers simply run as that user.
server_user() { # postgres|redis|rabbitmq
  if ((IS_ROOT)) && id -u "$1" >/dev/null 2>&1; then echo "$1"; else id -un; fi
}

# as_user USER CMD...: run CMD as USER (no su: runuser keeps stdin and does
# not ask for a password). Callers pass the environment explicitly with `env`
# because runuser resets PATH.
as_user() {
  local user="$1"; shift
  if ((IS_ROOT)) && [[ "$user" != root ]]; then
    runuser -u "$user" -- "$@"
  else
    "$@"
  fi
}

# own_dir DIR USER [MODE]: create DIR owned by USER. A tree left by another
# user (say, an earlier non-root run) is handed over whole.
own_dir() {
  local dir="$1" user="$2" mode="${3:-700}"
  mkdir -p "$dir"
  if ((IS_ROOT)) && [[ "$(stat -c %U "$dir")" != "$user" ]]; then
    chown -R "$user:" "$dir"
  fi
  chmod "$mode" "$dir"
}

# ensure_traversable DIR USER: the server user must be able to reach its data
# through every parent folder (a checkout under /root is not, by default).
# Only the search bit (o+x) is added, and only where it is missing.
ensure_traversable() {
  local dir="$1" user="$2" d
  ((IS_ROOT)) && [[ "$user" != root ]] || return 0
  as_user "$user" test -x "$dir" 2>/dev/null && return 0
  # From / downwards, so that only the folders that block are opened.
  local chain=()
  d="$dir"
  while [[ "$d" != / ]]; do chain=("$d" "${chain[@]}"); d="$(dirname "$d")"; done
  for d in "${chain[@]}"; do
    if ! as_user "$user" test -x "$d" 2>/dev/null; then
      say "allowing '$user' to pass through $d (chmod o+x)"
      chmod o+x "$d"
    fi
  done
  as_user "$user" test -x "$dir" || die "user '$user' cannot reach $dir"
}

# The var/ folders: readable by the server users (who only pass through).
prepare_var() {
  mkdir -p "$VAR"
  chmod 755 "$ROOT/var" "$VAR" 2>/dev/null || true
}

# pid_alive PID [NAME]: the process exists, is not a zombie (a killed daemon
# stays one until PID 1 reaps it, and in a container PID 1 may never do so),
# and its command is NAME, so that a recycled PID is not taken for our server.
pid_alive() {
  local pid="$1" name="${2:-}" stat state comm
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  stat="$(cat "/proc/$pid/stat" 2>/dev/null)" || return 1
  state="${stat##*) }"; state="${state%% *}"
  [[ "$state" != Z && "$state" != X ]] || return 1
  [[ -z "$name" ]] && return 0
  comm="$(cat "/proc/$pid/comm" 2>/dev/null)" || return 1
  [[ "$comm" == "$name"* ]]
}

read_pid() {
  if [[ -r "$1" ]]; then head -n1 "$1" 2>/dev/null | tr -dc '0-9' || true; fi
}

# port_open PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_gone PID NAME SECONDS: wait until the process has exited.
wait_gone() {
  local pid="$1" name="$2" limit="$3" start
  start="$(now)"
  while pid_alive "$pid" "$name"; do
    if awk -v a="$start" -v b="$(now)" -v t="$limit" 'BEGIN { exit !(b - a > t) }'; then
      return 1
    fi
    sleep 0.1
  done
}

# timed_out START: more than $TIMEOUT seconds have passed since START.
timed_out() { awk -v a="$1" -v b="$(now)" -v t="$TIMEOUT" 'BEGIN { exit !(b - a > t) }'; }

# mark_log FILE: remember how long FILE is now; new_log FILE prints what was
# written since, so errors show this start's lines, not last week's.
declare -A LOG_MARK=()
mark_log() { LOG_MARK[$1]="$(stat -c %s "$1" 2>/dev/null || echo 0)"; }
new_log() { tail -c +"$((${LOG_MARK[$1]:-0} + 1))" "$1" 2>/dev/null || true; }

# fail_with_log WHAT LOGFILE MESSAGE: report a server that did not come up.
fail_with_log() {
  echo "infra[$PROFILE]: error: $1: $3" >&2
  if [[ -r "$2" ]]; then
    # The first error lines say why; the last ones say where it ended.
    echo "----- $2: first error lines of this start -----" >&2
    new_log "$2" | grep -iE -m 6 'fatal|panic|boot failed|failed|reason:|error' | cut -c1-300 >&2 || true
    echo "----- $2: last lines -----" >&2
    new_log "$2" | tail -n 25 | cut -c1-300 >&2
    echo "-----" >&2
  fi
  exit 1
}

# --- PostgreSQL ---------------------------------------------------------------
PG_BIN="${SHOPSPHERE_PG_BIN:-}"
if [[ -z "$PG_BIN" ]]; then
  if [[ -x /usr/lib/postgresql/15/bin/pg_ctl ]]; then
    PG_BIN=/usr/lib/postgresql/15/bin
  else # another major version, newest first
    PG_BIN="$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n1)"
  fi
fi
PG_USER="$(server_user postgres)"
PG_DIR="$VAR/postgres"
PG_DATA="$PG_DIR/data"
PG_LOG="$PG_DIR/postgres.log"
PG_PORT="$SHOPSPHERE_PG_PORT"
# A unix socket path must fit in 107 bytes; a deep checkout moves it to /tmp.
PG_SOCK="$PG_DIR/run"
if ((${#PG_SOCK} + 20 > 100)); then
  PG_SOCK="/tmp/shopsphere-pg-$PROFILE-$(echo "$VAR" | md5sum | cut -c1-8)"
fi

pg() { # pg TOOL ARGS...: a PostgreSQL program, as the server user, from its dir
  local tool="$1"; shift
  # env -i: no PGUSER, PGHOST... of the caller's may redirect these tools.
  (cd "$PG_DIR" && as_user "$PG_USER" env -i PATH="$PG_BIN:/usr/bin:/bin" \
     LANG=C.UTF-8 HOME="$PG_DIR" "$PG_BIN/$tool" "$@")
}
pg_pid() { read_pid "$PG_DATA/postmaster.pid"; }
pg_running() { pid_alive "$(pg_pid)" postgres; }
pg_answers() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 3 >/dev/null 2>&1; }

pg_init() {
  [[ -x "$PG_BIN/initdb" ]] || die "PostgreSQL not found in $PG_BIN (run scripts/install-deps.sh)"
  own_dir "$PG_DIR" "$PG_USER" 700
  ensure_traversable "$PG_DIR" "$PG_USER"
  if [[ -s "$PG_DATA/PG_VERSION" ]]; then return 0; fi
  if [[ -d "$PG_DATA" ]]; then
    # An initdb that was interrupted leaves a data folder without PG_VERSION.
    say "removing the incomplete data folder $PG_DATA"
    rm -rf "$PG_DATA"
  fi
  say "postgres: creating a database cluster in $PG_DATA"
  local extra=()
  # Test data is thrown away: skip the fsync of initdb's files.
  [[ "$PROFILE" == test ]] && extra+=(--no-sync)
  # Superuser = the server's OS user, reached only through the unix socket
  # (peer auth). Everyone else logs in over TCP with a password.
  if ! pg initdb -D "$PG_DATA" -E UTF8 --locale=C.UTF-8 \
       --auth-local=peer --auth-host=scram-sha-256 "${extra[@]}" \
       >"$PG_DIR/initdb.log" 2>&1 </dev/null; then
    fail_with_log postgres "$PG_DIR/initdb.log" "initdb failed"
  fi
  # Our settings live in their own file, rewritten on every start.
  echo "include_if_exists = 'shopsphere.conf'" >>"$PG_DATA/postgresql.conf"
}

pg_write_conf() {
  local conf="$PG_DATA/shopsphere.conf"
  {
    echo "# Written by scripts/infra.sh on every start: change the script instead."
    echo "listen_addresses = '127.0.0.1'"
    echo "port = $PG_PORT"
    echo "unix_socket_directories = '$PG_SOCK'"
    echo "max_connections = 300"
    echo "shared_buffers = 128MB"
    echo "timezone = 'UTC'"
    echo "log_timezone = 'UTC'"
    echo "log_line_prefix = '%m [%p] %q%u@%d '"
    if [[ "$PROFILE" == test ]]; then
      echo "# test data is disposable: trade durability for speed"
      echo "fsync = off"
      echo "synchronous_commit = off"
      echo "full_page_writes = off"
    fi
  } >"$conf"
  ((IS_ROOT)) && chown "$PG_USER:" "$conf"
  chmod 600 "$conf"
}

# Role, database and extension, every start: cheap, and it re-applies the
# password if secrets.env changed. The password travels on stdin, not argv.
pg_provision() {
  local pw="${SHOPSPHERE_PG_PASSWORD//\'/\'\'}"
  pg psql -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -d postgres \
     >/dev/null <<SQL || die "postgres: could not create role/database (see $PG_LOG)"
SET client_min_messages = warning;
SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'shopsphere') AS need_role \gset
\if :need_role
CREATE ROLE shopsphere LOGIN CREATEDB;
\endif
ALTER ROLE shopsphere WITH LOGIN CREATEDB PASSWORD '$pw';
SELECT NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'shopsphere') AS need_db \gset
\if :need_db
CREATE DATABASE shopsphere OWNER shopsphere;
\endif
\connect shopsphere
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
SQL
}

pg_start() {
  local t0 pid
  t0="$(now)"
  if pg_running; then
    pid="$(pg_pid)"
    wait_answer postgres pg_answers "$PG_LOG" "$pid" postgres
    say "postgres: already running (pid $pid, 127.0.0.1:$PG_PORT)"
    return 0
  fi
  port_open "$PG_PORT" && die "postgres: port $PG_PORT is taken by another program"
  pg_init
  # A postmaster.pid whose process is gone (or a zombie nobody reaped, which
  # PostgreSQL itself still takes for a live server) would block the start.
  if [[ -f "$PG_DATA/postmaster.pid" ]]; then
    say "postgres: removing the stale postmaster.pid of pid $(pg_pid)"
    rm -f "$PG_DATA/postmaster.pid"
  fi
  own_dir "$PG_SOCK" "$PG_USER" 700
  pg_write_conf
  touch "$PG_LOG"; ((IS_ROOT)) && chown "$PG_USER:" "$PG_LOG"
  mark_log "$PG_LOG"
  # pg_ctl -w returns once the server accepts connections (it reads
  # postmaster.pid: no connection attempts while the port is closed).
  # shellcheck disable=SC2094 # pg_ctl and the server both append to the log
  if ! pg pg_ctl -D "$PG_DATA" -l "$PG_LOG" -w -t "$TIMEOUT" -s start \
       </dev/null >/dev/null 2>>"$PG_LOG" 9>&-; then
    fail_with_log postgres "$PG_LOG" "pg_ctl start failed (or took over ${TIMEOUT}s)"
  fi
  pid="$(pg_pid)"
  wait_answer postgres pg_answers "$PG_LOG" "$pid" postgres
  pg_provision
  say "postgres: started in $(since "$t0") s (pid $pid, 127.0.0.1:$PG_PORT)"
}

pg_stop() {
  local pid
  pid="$(pg_pid)"
  if ! pid_alive "$pid" postgres; then say "postgres: not running"; return 0; fi
  # fast: roll back open transactions, disconnect clients, checkpoint, exit.
  pg pg_ctl -D "$PG_DATA" -m fast -w -t "$TIMEOUT" -s stop </dev/null >/dev/null 2>&1 || true
  if ! wait_gone "$pid" postgres 5; then
    say "postgres: still running after pg_ctl stop; sending SIGQUIT"
    kill -QUIT "$pid" 2>/dev/null || true
    wait_gone "$pid" postgres 10 || die "postgres: pid $pid does not stop"
  fi
  say "postgres: stopped"
}

pg_status() {
  local pid
  pid="$(pg_pid)"
  if pid_alive "$pid" postgres; then
    if pg_answers; then status_line postgres running "$pid" "127.0.0.1:$PG_PORT" "data $PG_DATA"
    else status_line postgres "not-answering" "$pid" "127.0.0.1:$PG_PORT" "log $PG_LOG"; return 1; fi
  else
    status_line postgres stopped "-" "127.0.0.1:$PG_PORT" ""; return 1
  fi
}

# --- Redis --------------------------------------------------------------------
REDIS_USER="$(server_user redis)"
REDIS_DIR="$VAR/redis"
REDIS_CONF="$REDIS_DIR/redis.conf"
REDIS_PIDFILE="$REDIS_DIR/redis.pid"
REDIS_LOG="$REDIS_DIR/redis.log"
REDIS_PORT="$SHOPSPHERE_REDIS_PORT"

redis_pid() { read_pid "$REDIS_PIDFILE"; }
redis_running() { pid_alive "$(redis_pid)" redis-server; }
redis_answers() {
  [[ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]
}

redis_write_conf() {
  {
    echo "# Written by scripts/infra.sh on every start: change the script instead."
    echo "port $REDIS_PORT"
    echo "bind 127.0.0.1"
    echo "protected-mode yes"
    echo "daemonize yes"
    echo "supervised no"
    echo "pidfile $REDIS_PIDFILE"
    echo "logfile $REDIS_LOG"
    echo "dir $REDIS_DIR"
    echo "appendonly no"
    if [[ "$PROFILE" == dev ]]; then
      # Keep carts across restarts of the dev box.
      echo "save 3600 1 300 100 60 10000"
      echo "dbfilename dump.rdb"
    else
      echo 'save ""'
    fi
  } >"$REDIS_CONF"
  ((IS_ROOT)) && chown "$REDIS_USER:" "$REDIS_CONF"
  chmod 600 "$REDIS_CONF"
}

redis_start() {
  local t0 pid
  t0="$(now)"
  command -v redis-server >/dev/null || die "redis-server not found (run scripts/install-deps.sh)"
  if redis_running; then
    pid="$(redis_pid)"
    wait_answer redis redis_answers "$REDIS_LOG" "$pid" redis-server
    say "redis: already running (pid $pid, 127.0.0.1:$REDIS_PORT)"
    return 0
  fi
  port_open "$REDIS_PORT" && die "redis: port $REDIS_PORT is taken by another program"
  own_dir "$REDIS_DIR" "$REDIS_USER" 700
  ensure_traversable "$REDIS_DIR" "$REDIS_USER"
  rm -f "$REDIS_PIDFILE"
  mark_log "$REDIS_LOG"
  redis_write_conf
  (cd "$REDIS_DIR" && as_user "$REDIS_USER" "$(command -v redis-server)" "$REDIS_CONF") \
    </dev/null >>"$REDIS_LOG.stdout" 2>&1 9>&- \
    || fail_with_log redis "$REDIS_LOG" "redis-server did not start"
  # daemonize: the pid file appears once the child runs; wait for PONG.
  wait_answer redis redis_answers "$REDIS_LOG" "" redis-server "$REDIS_PIDFILE" \
    'Failed listening|aborting|Fatal error|FATAL'
  say "redis: started in $(since "$t0") s (pid $(redis_pid), 127.0.0.1:$REDIS_PORT)"
}

redis_stop() {
  local pid
  pid="$(redis_pid)"
  if ! pid_alive "$pid" redis-server; then say "redis: not running"; return 0; fi
  # SIGTERM = SHUTDOWN: saves the dev snapshot (test/bench have no save points).
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_gone "$pid" redis-server 30; then
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone "$pid" redis-server 5 || die "redis: pid $pid does not stop"
  fi
  rm -f "$REDIS_PIDFILE"
  say "redis: stopped"
}

redis_status() {
  local pid
  pid="$(redis_pid)"
  if pid_alive "$pid" redis-server; then
    if redis_answers; then status_line redis running "$pid" "127.0.0.1:$REDIS_PORT" "dir $REDIS_DIR"
    else status_line redis "not-answering" "$pid" "127.0.0.1:$REDIS_PORT" "log $REDIS_LOG"; return 1; fi
  else
    status_line redis stopped "-" "127.0.0.1:$REDIS_PORT" ""; return 1
  fi
}

# --- RabbitMQ -----------------------------------------------------------------
RMQ_USER="$(server_user rabbitmq)"
RMQ_DIR="$VAR/rabbitmq"
RMQ_HOME="$RMQ_DIR/home"          # holds the Erlang cookie of this node
RMQ_MNESIA="$RMQ_DIR/mnesia"
RMQ_LOGDIR="$RMQ_DIR/log"
RMQ_PIDFILE="$RMQ_DIR/rabbitmq.pid"
RMQ_CONF="$RMQ_DIR/rabbitmq.conf"
RMQ_PORT="$SHOPSPHERE_AMQP_PORT"
RMQ_DIST_PORT="$SHOPSPHERE_AMQP_DIST_PORT"
RMQ_NODE="shopsphere-$PROFILE@localhost"
RMQ_LOG="$RMQ_LOGDIR/$RMQ_NODE.log"
RMQ_SBIN=/usr/lib/rabbitmq/bin
# Marker: a hash of the password the broker's user was last given.
RMQ_PROVISIONED="$RMQ_DIR/provisioned"

# The same environment for the server and for rabbitmqctl: the CLI must see
# the node's HOME (Erlang cookie) or it is refused. `env -i` keeps out the
# caller's environment, and RABBITMQ_CONF_ENV_FILE keeps out /etc/rabbitmq.
RMQ_ENV=(
  HOME="$RMQ_HOME" PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 LC_ALL=C.UTF-8
  RABBITMQ_NODENAME="$RMQ_NODE"
  RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  RABBITMQ_NODE_PORT="$RMQ_PORT"
  RABBITMQ_DIST_PORT="$RMQ_DIST_PORT"
  RABBITMQ_MNESIA_BASE="$RMQ_MNESIA"
  RABBITMQ_LOG_BASE="$RMQ_LOGDIR"
  RABBITMQ_PID_FILE="$RMQ_PIDFILE"
  RABBITMQ_ENABLED_PLUGINS_FILE="$RMQ_DIR/enabled_plugins"
  RABBITMQ_CONFIG_FILE="$RMQ_CONF"
  RABBITMQ_ADVANCED_CONFIG_FILE="$RMQ_DIR/advanced.config"
  RABBITMQ_CONF_ENV_FILE="$RMQ_DIR/rabbitmq-env.conf"
  # Erlang distribution (and an epmd this node starts) on loopback only.
  RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  ERL_EPMD_ADDRESS=127.0.0.1
)
rmq_exec() { # rmq_exec CMD...: as the broker's user, in its folder and environment
  (cd "$RMQ_DIR" && as_user "$RMQ_USER" env -i "${RMQ_ENV[@]}" "$@")
}
rmqctl() { rmq_exec "$RMQ_SBIN/rabbitmqctl" -n "$RMQ_NODE" "$@"; }

# Extra plugins to enable (space-separated, e.g. rabbitmq_management); none
# by default, which also makes the boot faster.
RMQ_PLUGINS="${SHOPSPHERE_RABBITMQ_PLUGINS:-}"

# rmq_prepare_home: a RabbitMQ home of our own under var/ whose plugins/
# folder links only the Erlang applications the broker needs (the closure of
# `rabbit` and of the enabled plugins in their .app files) instead of all 71
# that Debian ships. Every module the broker loads is looked up along the
# code path, and it loads them all at boot to scan their attributes: the
# short path cuts a restart from about 4 s to 2.5 s. Rebuilt when the
# installed version or the plugin list changes; RMQ_SERVER is what to run.
RMQ_SERVER="$RMQ_SBIN/rabbitmq-server"
RMQ_SCRIPTS_ENV=()
rmq_prepare_home() {
  local real home dist="$RMQ_DIR/dist" stamp app dir deps
  real="$(readlink -f "$RMQ_SBIN/rabbitmq-server")"
  home="$(dirname "$(dirname "$real")")"
  stamp="$home $RMQ_PLUGINS"
  if [[ "$(cat "$dist/.stamp" 2>/dev/null || true)" != "$stamp" ]]; then
    rm -rf "$dist"
    mkdir -p "$dist/sbin" "$dist/plugins"
    ln -s "$home"/sbin/* "$dist/sbin/"
    ln -s "$home/escript" "$dist/escript"
    local -A linked=()
    local queue=(rabbit) extra=()
    read -ra extra <<<"$RMQ_PLUGINS"
    queue+=("${extra[@]}")
    while ((${#queue[@]})); do
      app="${queue[0]}"; queue=("${queue[@]:1}")
      [[ -z "${linked[$app]:-}" ]] || continue
      linked[$app]=1
      # Applications of Erlang/OTP itself are not in plugins/: skip them.
      dir="$(find "$home/plugins" -maxdepth 1 -name "$app-[0-9]*" -type d | sort -V | tail -n1)"
      [[ -n "$dir" && -r "$dir/ebin/$app.app" ]] || continue
      ln -s "$dir" "$dist/plugins/"
      deps="$(tr -d ' \t\n' <"$dir/ebin/$app.app" | grep -o '{applications,\[[^]]*\]' |
              sed 's/.*\[//; s/\]//; s/,/ /g' || true)"
      # shellcheck disable=SC2206 # split the list of names
      queue+=($deps)
    done
    echo "$stamp" >"$dist/.stamp"
  fi
  if compgen -G "$dist/plugins/rabbit-[0-9]*" >/dev/null &&
     compgen -G "$dist/plugins/rabbit_common-[0-9]*" >/dev/null; then
    RMQ_SERVER="$dist/sbin/rabbitmq-server"
    RMQ_SCRIPTS_ENV=(RABBITMQ_SCRIPTS_DIR="$dist/sbin")
  else
    say "rabbitmq: could not build a trimmed home; using $home as it is"
  fi
}

rmq_pid() { read_pid "$RMQ_PIDFILE"; }
rmq_running() { pid_alive "$(rmq_pid)" beam; }
rmq_answers() { port_open "$RMQ_PORT"; }

# amqp_handshake: send the AMQP 0-9-1 protocol header and expect the broker's
# first frame (a method frame, type 1: connection.start). Answers only once
# the broker is ready for clients; needs no CLI (the CLI costs a second).
amqp_handshake() {
  (
    exec 3<>"/dev/tcp/127.0.0.1/$RMQ_PORT" || exit 1
    printf 'AMQP\x00\x00\x09\x01' >&3
    LC_ALL=C IFS= read -r -t 3 -N 1 -u 3 frame || exit 1
    [[ "$frame" == $'\x01' ]]
  ) 2>/dev/null
}

rmq_write_config() {
  own_dir "$RMQ_DIR" "$RMQ_USER" 700
  ensure_traversable "$RMQ_DIR" "$RMQ_USER"
  local d
  for d in "$RMQ_HOME" "$RMQ_MNESIA" "$RMQ_LOGDIR"; do
    mkdir -p "$d"
  done
  # The Erlang cookie, made once: server and CLI find it in $HOME.
  if [[ ! -s "$RMQ_HOME/.erlang.cookie" ]]; then
    (umask 077; od -An -N20 -tx1 /dev/urandom | tr -d ' \n' | tr a-f A-F \
       >"$RMQ_HOME/.erlang.cookie")
  fi
  # No plugins unless asked for: a faster boot.
  local list
  list="$(echo "$RMQ_PLUGINS" | xargs -n1 2>/dev/null | paste -sd, - || true)"
  echo "[$list]." >"$RMQ_DIR/enabled_plugins"
  rm -f "$RMQ_DIR/rabbitmq-env.conf"   # absent: the broker skips a shell run
  # On the first boot of an empty node RabbitMQ creates this default user
  # instead of `guest`; later password changes are applied by rmq_provision.
  {
    echo "# Written by scripts/infra.sh on every start: change the script instead."
    echo "default_vhost = /"
    echo "default_user = shopsphere"
    echo "default_pass = $SHOPSPHERE_AMQP_PASSWORD"
    echo "default_user_tags.administrator = true"
    echo "default_permissions.configure = .*"
    echo "default_permissions.read = .*"
    echo "default_permissions.write = .*"
    echo "log.file.level = info"
    echo "log.console = false"
  } >"$RMQ_CONF"
  if ((IS_ROOT)); then chown -R -h "$RMQ_USER:" "$RMQ_DIR"; fi
  chmod 400 "$RMQ_HOME/.erlang.cookie"
  chmod 600 "$RMQ_CONF"
}

# hex2bin HEX: write the bytes HEX spells (printf does it; no xxd needed).
hex2bin() {
  local h="$1" esc=""
  while [[ -n "$h" ]]; do esc+="\\x${h:0:2}"; h="${h:2}"; done
  printf '%b' "$esc"
}

pw_hash() { printf '%s' "$1" | sha256sum | cut -c1-16; }

# rmq_provision: make sure user `shopsphere` has the profile's password, the
# administrator tag and all permissions on vhost /, and that `guest` is gone.
# Skipped (no CLI call) when the marker says that was done for this password.
rmq_provision() {
  local want
  want="$(pw_hash "$SHOPSPHERE_AMQP_PASSWORD")"
  [[ "$(cat "$RMQ_PROVISIONED" 2>/dev/null || true)" == "$want" ]] && return 0
  say "rabbitmq: setting up user shopsphere"
  # import_definitions takes a salted SHA-256 hash, so the password never
  # appears on a command line.
  local salt hash defs="$RMQ_DIR/definitions.json"
  salt="$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
  hash="$( { hex2bin "$salt"; printf '%s' "$SHOPSPHERE_AMQP_PASSWORD"; } | sha256sum | cut -d' ' -f1)"
  hash="$(hex2bin "$salt$hash" | base64 -w0)"
  (umask 077; cat >"$defs" <<JSON
{"users": [{"name": "shopsphere", "password_hash": "$hash",
            "hashing_algorithm": "rabbit_password_hashing_sha256",
            "tags": ["administrator"], "limits": {}}],
 "vhosts": [{"name": "/"}],
 "permissions": [{"user": "shopsphere", "vhost": "/",
                  "configure": ".*", "write": ".*", "read": ".*"}]}
JSON
  )
  ((IS_ROOT)) && chown "$RMQ_USER:" "$defs"
  rmqctl -q import_definitions "$defs" >/dev/null || die "rabbitmq: import_definitions failed"
  rm -f "$defs"
  if rmqctl -q list_users --no-table-headers 2>/dev/null | grep -q '^guest[[:space:]]'; then
    rmqctl -q delete_user guest >/dev/null || die "rabbitmq: could not delete user guest"
  fi
  echo "$want" >"$RMQ_PROVISIONED"
}

# Phase 1 of a start: launch the broker and return at once, so PostgreSQL and
# Redis can start while the Erlang VM boots (the slowest of the three).
RMQ_LAUNCHED=0
RMQ_FRESH=0
RMQ_T0=""
rmq_launch() {
  RMQ_T0="$(now)"
  [[ -x "$RMQ_SBIN/rabbitmq-server" ]] || die "RabbitMQ not found in $RMQ_SBIN (run scripts/install-deps.sh)"
  if rmq_running; then return 0; fi
  port_open "$RMQ_PORT" && die "rabbitmq: port $RMQ_PORT is taken by another program"
  port_open "$RMQ_DIST_PORT" && die "rabbitmq: port $RMQ_DIST_PORT is taken by another program"
  rmq_write_config
  rmq_prepare_home
  if ((IS_ROOT)); then chown -R -h "$RMQ_USER:" "$RMQ_DIR"; fi
  rm -f "$RMQ_PIDFILE"
  # An empty node creates user shopsphere from rabbitmq.conf on this boot.
  if [[ ! -d "$RMQ_MNESIA/$RMQ_NODE" ]]; then
    rm -f "$RMQ_PROVISIONED"
    RMQ_FRESH=1
  fi
  # Only log lines written from now on count for "startup complete".
  mark_log "$RMQ_LOG"
  mark_log "$RMQ_LOGDIR/startup.log"
  (cd "$RMQ_DIR" && as_user "$RMQ_USER" env -i "${RMQ_ENV[@]}" "${RMQ_SCRIPTS_ENV[@]}" \
     "$RMQ_SERVER" -detached) \
    </dev/null >>"$RMQ_LOGDIR/startup.log" 2>&1 9>&- \
    || fail_with_log rabbitmq "$RMQ_LOGDIR/startup.log" "rabbitmq-server did not start"
  RMQ_LAUNCHED=1
}

# Booted: the log says so, and then the port speaks AMQP. The log comes first
# so that we do not knock on a port nobody listens on yet (see reserve_ports).
rmq_booted() {
  pid_alive "$(rmq_pid)" beam &&
    new_log "$RMQ_LOG" | grep -q 'Server startup complete' &&
    amqp_handshake
}

# Phase 2: wait until the broker answers, then set up its user.
rmq_wait() {
  local pid
  if ((RMQ_LAUNCHED == 0)); then
    pid="$(rmq_pid)"
    wait_answer rabbitmq rmq_answers "$RMQ_LOG" "$pid" beam
    say "rabbitmq: already running (pid $pid, 127.0.0.1:$RMQ_PORT, node $RMQ_NODE)"
    return 0
  fi
  # `rabbitmqctl await_startup` would do, but fails until the node has
  # registered with epmd and its CLI takes a second to start: the AMQP
  # handshake plus the log's "startup complete" line tell the same, sooner.
  wait_answer rabbitmq rmq_booted "$RMQ_LOG" "" beam "$RMQ_PIDFILE" \
    'BOOT FAILED|Error during startup'
  if ((RMQ_FRESH)) &&
     new_log "$RMQ_LOG" | grep -q "Created user 'shopsphere'"; then
    # The default user of rabbitmq.conf, with this password; no guest.
    pw_hash "$SHOPSPHERE_AMQP_PASSWORD" >"$RMQ_PROVISIONED"
  fi
  rmq_provision
  say "rabbitmq: started in $(since "$RMQ_T0") s (pid $(rmq_pid), 127.0.0.1:$RMQ_PORT, node $RMQ_NODE)"
}

rmq_start() { rmq_launch; rmq_wait; }

# Phase 1 of a stop: SIGTERM makes the Erlang VM shut the broker down cleanly
# (what `rabbitmqctl stop` does, without the CLI's start-up cost).
RMQ_STOPPING=""
rmq_signal_stop() {
  RMQ_STOPPING="$(rmq_pid)"
  if pid_alive "$RMQ_STOPPING" beam; then
    kill -TERM "$RMQ_STOPPING" 2>/dev/null || true
  else
    RMQ_STOPPING=""
  fi
}
rmq_wait_stopped() {
  if [[ -z "$RMQ_STOPPING" ]]; then say "rabbitmq: not running"; return 0; fi
  if ! wait_gone "$RMQ_STOPPING" beam 60; then
    say "rabbitmq: no clean stop within 60 s; killing pid $RMQ_STOPPING"
    kill -KILL "$RMQ_STOPPING" 2>/dev/null || true
    wait_gone "$RMQ_STOPPING" beam 5 || die "rabbitmq: pid $RMQ_STOPPING does not stop"
  fi
  rm -f "$RMQ_PIDFILE"
  say "rabbitmq: stopped"
}
rmq_stop() { rmq_signal_stop; rmq_wait_stopped; }

rmq_status() {
  local pid
  pid="$(rmq_pid)"
  if pid_alive "$pid" beam; then
    if rmq_answers; then status_line rabbitmq running "$pid" "127.0.0.1:$RMQ_PORT" "node $RMQ_NODE"
    else status_line rabbitmq "not-answering" "$pid" "127.0.0.1:$RMQ_PORT" "log $RMQ_LOG"; return 1; fi
  else
    status_line rabbitmq stopped "-" "127.0.0.1:$RMQ_PORT" ""; return 1
  fi
}

# --- shared -------------------------------------------------------------------
status_line() { printf '%-9s %-13s pid %-8s %-16s %s\n' "$1" "$2" "$3" "$4" "$5"; }

# wait_answer NAME CHECK LOG PID PROCNAME [PIDFILE] [FATAL]: poll CHECK until
# it succeeds. Fail early when the server process died, when a line of this
# start's log matches the regular expression FATAL, or when no pid file
# appeared within 30 s; fail after $TIMEOUT s in any case. With PIDFILE the
# PID is read from it (it appears during start-up).
wait_answer() {
  local name="$1" check="$2" log="$3" pid="$4" proc="$5" pidfile="${6:-}" fatal="${7:-}"
  local t0 p
  t0="$(now)"
  while ! "$check"; do
    if [[ -n "$pidfile" ]]; then
      p="$(read_pid "$pidfile")"
      [[ -n "$p" ]] && pid="$p"
    fi
    if [[ -n "$fatal" ]] && new_log "$log" | grep -qE "$fatal"; then
      fail_with_log "$name" "$log" "start-up failed"
    fi
    if [[ -n "$pid" ]]; then
      pid_alive "$pid" "$proc" ||
        fail_with_log "$name" "$log" "the server (pid $pid) exited during start-up"
    elif awk -v a="$t0" -v b="$(now)" 'BEGIN { exit !(b - a > 30) }'; then
      # A server that dies before writing its pid file must not cost the
      # whole timeout.
      fail_with_log "$name" "$log" "no pid file ($pidfile) after 30 s"
    fi
    timed_out "$t0" && fail_with_log "$name" "$log" "not answering after ${TIMEOUT}s"
    sleep 0.1
  done
}

# reserve_ports PORT...: keep the kernel from handing our server ports to
# outgoing connections. Ports like 54321 lie in Linux's ephemeral range
# (32768-60999): a client that keeps connecting to a stopped server on
# 127.0.0.1 can get that very port as its own source port and connect to
# itself, and the server then cannot bind when it comes back. Root only; a
# no-op where /proc/sys is read-only.
reserve_ports() {
  local f=/proc/sys/net/ipv4/ip_local_reserved_ports cur p item lo hi add=()
  local elo ehi
  ((IS_ROOT)) && [[ -w "$f" ]] || return 0
  read -r elo ehi </proc/sys/net/ipv4/ip_local_port_range || return 0
  cur="$(cat "$f" 2>/dev/null || true)"
  for p in "$@"; do
    ((p >= elo && p <= ehi)) || continue
    local covered=0
    for item in ${cur//,/ }; do
      lo="${item%-*}"; hi="${item#*-}"
      if ((p >= lo && p <= hi)); then covered=1; break; fi
    done
    ((covered)) || add+=("$p")
  done
  ((${#add[@]})) || return 0
  local IFS=,
  if echo "${cur:+$cur,}${add[*]}" >"$f" 2>/dev/null; then
    say "reserved ports ${add[*]} (net.ipv4.ip_local_reserved_ports)"
  fi
}

has() { local s; for s in "${SERVERS[@]}"; do [[ "$s" == "$1" ]] && return 0; done; return 1; }

do_start() {
  prepare_var
  # One start or stop at a time per profile (two `make run`s, say). The lock
  # fd is closed (9>&-) for every server we launch, or it would hold it.
  exec 9>"$VAR/infra.lock"
  flock -w "$((TIMEOUT * 2))" 9 || die "another infra.sh holds $VAR/infra.lock"
  reserve_ports "$PG_PORT" "$RMQ_PORT" "$RMQ_DIST_PORT"
  if has rabbitmq; then rmq_launch; fi
  if has redis; then redis_start; fi
  if has postgres; then pg_start; fi
  if has rabbitmq; then rmq_wait; fi
}

do_stop() {
  [[ -d "$VAR" ]] || { say "nothing to stop ($VAR does not exist)"; return 0; }
  exec 9>"$VAR/infra.lock"
  flock -w "$((TIMEOUT * 2))" 9 || die "another infra.sh holds $VAR/infra.lock"
  if has rabbitmq; then rmq_signal_stop; fi
  if has redis; then redis_stop; fi
  if has postgres; then pg_stop; fi
  if has rabbitmq; then rmq_wait_stopped; fi
}

do_status() {
  local rc=0
  if has postgres; then pg_status || rc=3; fi
  if has redis; then redis_status || rc=3; fi
  if has rabbitmq; then rmq_status || rc=3; fi
  return "$rc"
}

case "$ACTION" in
  start) do_start ;;
  stop) do_stop ;;
  status) do_status ;;
  restart) do_stop; exec 9>&-; do_start ;;
  rabbitmqctl) rmqctl "${CTL_ARGS[@]}" ;;
esac
