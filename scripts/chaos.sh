#!/usr/bin/env bash
# The chaos drill (docs/resilience.md): a platform of its own under a steady
# shopper load, faults injected one after another, the invariants checked by
# SQL after each and at the end (tests/chaos/drill.mjs).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"

usage() {
  cat <<'EOF'
usage: scripts/chaos.sh [--short | --quick] [--build-dir DIR] [--report FILE] [--keep-infra]

Starts PostgreSQL, Redis and RabbitMQ of the profile with empty data,
migrates, runs `shopsphere up`, then tests/chaos/drill.mjs: under a steady
load (`shopsphere loadtest`, 6 shoppers with checkouts and refunds) it
injects in turn kill -9 of every service process (the supervisor restarts
it), RabbitMQ stopped for 20 s, PostgreSQL restarted, Redis stopped for
10 s, the sandbox card processor at 30 % errors and 2 s latency, and the
courier's webhooks dropped for 30 s; after
each fault and at the end it checks the invariants and prints them as a
table with the time to recover per fault. Exit status 1 on a broken
invariant. About 15 minutes; --short (order, payment and gateway killed,
PostgreSQL, Redis, the card processor) about 4; --quick (the order
service killed, RabbitMQ stopped 5 s, 4 shoppers: the stage of make test)
about 3.

  --short          the short drill
  --quick          the quick drill (scripts/test.sh runs it)
  --build-dir DIR  the build to drill (default build/asan)
  --report FILE    also write the table (Markdown) to FILE
  --keep-infra     leave the servers running afterwards

The profile is SHOPSPHERE_TEST_PROFILE (default test; w1..w8 for a private
one). Platform log: var/<profile>/chaos-platform.log.
EOF
}

BUILD_DIR=build/asan
SHORT=0
QUICK=0
KEEP_INFRA=0
REPORT=""
while (($#)); do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --short) SHORT=1; shift ;;
    --quick) QUICK=1; shift ;;
    --build-dir) BUILD_DIR="$2"; shift 2 ;;
    --report) REPORT="$2"; shift 2 ;;
    --keep-infra) KEEP_INFRA=1; shift ;;
    *) echo "chaos: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

PROFILE="${SHOPSPHERE_TEST_PROFILE:-test}"
# shellcheck source=scripts/profile.sh
. scripts/profile.sh "$PROFILE"
BIN="$ROOT/$BUILD_DIR/shopsphere"
[[ -x "$BIN" ]] || { echo "chaos: $BIN is missing: make build-asan first" >&2; exit 2; }
command -v psql >/dev/null || { echo "chaos: psql is missing" >&2; exit 2; }
LOG="$SHOPSPHERE_VAR_DIR/chaos-platform.log"
# The leaks make test tolerates are tolerated here too.
if [[ -f tests/lsan.supp ]]; then
  export LSAN_OPTIONS="suppressions=$ROOT/tests/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
fi
PID=""

say() { echo "[chaos] $*"; }

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$PID" ]]; then
    kill -TERM "$PID" 2>/dev/null || true
    timeout 30 tail --pid="$PID" -f /dev/null || kill -KILL -- "-$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
  fi
  if ((!KEEP_INFRA)); then scripts/infra.sh stop all --profile "$PROFILE" || true; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'echo "[chaos] interrupted" >&2; exit 130' INT TERM

if (exec 3<>"/dev/tcp/127.0.0.1/$SHOPSPHERE_PORT_BASE") 2>/dev/null; then
  echo "chaos: port $SHOPSPHERE_PORT_BASE is in use (a platform of profile $PROFILE is running?)" >&2
  exit 2
fi
say "profile $PROFILE: fresh servers"
scripts/infra.sh stop all --profile "$PROFILE"
rm -rf "$SHOPSPHERE_VAR_DIR"/{postgres,redis,rabbitmq}
scripts/infra.sh start all --profile "$PROFILE"
"$BIN" migrate >/dev/null
: >"$LOG"
setsid "$BIN" up </dev/null >>"$LOG" 2>&1 &
PID=$!
say "shopsphere up (pid $PID), log $LOG"

rc=0
CHAOS_BIN="$BIN" CHAOS_PLATFORM_PID="$PID" CHAOS_SHORT="$SHORT" CHAOS_QUICK="$QUICK" CHAOS_REPORT="$REPORT" \
  node tests/chaos/drill.mjs || rc=$?
# A sanitizer report from any restarted process is a failure too.
if grep -nE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$LOG" >&2; then
  say "sanitizer reports in $LOG"
  ((rc != 0)) || rc=1
fi
exit "$rc"
