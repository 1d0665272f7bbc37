#!/usr/bin/env bash
# Every test suite against a platform of its own: the `test` profile
# (var/test, PostgreSQL 54321, Redis 63791, RabbitMQ 56721, services on
# 18080+), so a running `make run` (dev profile) is never touched.
#
# Stages: api (the API documents' checks) -> infra -> unit (ctest) ->
# migrate -> platform (shopsphere up) -> system (node --test, every exchange
# checked against api/*.yaml) -> coverage -> shutdown. A failed stage fails the run; later
# stages that depend on it are skipped. Clean-up always runs (trap).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"

usage() {
  cat <<'EOF'
usage: scripts/test.sh [--build-dir DIR] [--no-unit] [--no-system] [--keep-infra]
                      [--keep-data] [--only PATTERN] [--no-api] [--no-chaos]

Runs the test suites of ShopSphere against the test profile (var/test):
  0. the API documents (scripts/api-check.sh): Redocly CLI lints
     api/openapi.yaml and api/sandbox*.yaml (no errors, no warnings), every
     object schema is closed, web/api/*.d.ts match the documents, and the
     contract check's own tests pass
  1. starts PostgreSQL, Redis, RabbitMQ on the test ports (scripts/infra.sh)
     with empty data (what an earlier run left is removed)
  2. unit tests: ctest --test-dir build/asan --output-on-failure, then the
     offline checks of deploy/ (scripts/deploy-check.sh)
  3. build/asan/shopsphere migrate
  4. build/asan/shopsphere up in the background (log: var/test/platform.log),
     waits for http://127.0.0.1:18080/healthz
  5. system tests: node --test tests/system/ (every *.test.mjs), then the
     browser journeys of tests/e2e/ (Playwright in /usr/bin/chromium;
     screenshots in var/<profile>/e2e/); in the system tests every
     request and answer through the gateway, the probes and the sandboxes is
     checked against api/openapi.yaml and api/sandbox*.yaml (docs/api.md)
     then (full runs only, not with --only) every documented operation must
     have been exercised, save those api/untested-operations.txt names
  6. stops the platform (SIGTERM)
  7. a smoke run of the other topology: serve --services=all (in-process
     calls), a registration and a catalog read, a clean stop
  8. the quick chaos drill (scripts/chaos.sh --quick, docs/resilience.md):
     fresh servers, the order service killed and RabbitMQ stopped under a
     light shopper load, every invariant checked (full runs only, not with
     --only)
  9. stops the test servers
Exit status 0 only if every stage passed. Build first: make build-asan (or
just run `make test`).

  --build-dir DIR   the sanitizer build to test (default build/asan)
  --no-unit         skip ctest and the offline deploy/ checks
  --no-system       skip the platform and the system tests
  --keep-infra      leave the test servers running afterwards
  --keep-data       start from the data an earlier run left (default: empty)
  --only PATTERN    run only the system and e2e test files whose name
                    contains PATTERN
  --no-api          skip stage 0 (the API documents' checks)
  --no-chaos        skip stage 8 (the quick chaos drill)

SHOPSPHERE_TEST_PROFILE=w1..w8 runs everything on a private set of ports
and data (var/w1, ...), so several runs can share a machine.

The system tests get SHOPSPHERE_TEST_BASE_URL, SHOPSPHERE_PORT_BASE,
SHOPSPHERE_ROOT (to call scripts/infra.sh, e.g. to stop PostgreSQL) and the
rest of the test profile's environment (scripts/profile.sh test).
EOF
}

BUILD_DIR=build/asan
RUN_UNIT=1
RUN_API=1
ONLY=""
RUN_SYSTEM=1
RUN_CHAOS=1
KEEP_INFRA=0
KEEP_DATA=0
while (($#)); do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --build-dir) BUILD_DIR="$2"; shift 2 ;;
    --build-dir=*) BUILD_DIR="${1#*=}"; shift ;;
    --no-unit) RUN_UNIT=0; shift ;;
    --no-system) RUN_SYSTEM=0; shift ;;
    --no-api) RUN_API=0; shift ;;
    --no-chaos) RUN_CHAOS=0; shift ;;
    --keep-infra) KEEP_INFRA=1; shift ;;
    --keep-data) KEEP_DATA=1; shift ;;
    --only) ONLY="$2"; shift 2 ;;
    --only=*) ONLY="${1#*=}"; shift ;;
    *) echo "test: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

# --- environment --------------------------------------------------------------
# shellcheck source=scripts/profile.sh
TEST_PROFILE="${SHOPSPHERE_TEST_PROFILE:-test}"
. scripts/profile.sh "$TEST_PROFILE"
BIN="$BUILD_DIR/shopsphere"
BASE_URL="http://127.0.0.1:$SHOPSPHERE_PORT_BASE"
export SHOPSPHERE_TEST_BASE_URL="$BASE_URL"
export SHOPSPHERE_ROOT="$ROOT"
# Sanitizers: stop at the first error and say where; leaks fail the process
# at exit. Options the caller set come last, so they win.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
if [[ -f tests/lsan.supp ]]; then
  export LSAN_OPTIONS="suppressions=$ROOT/tests/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
fi

PLATFORM_LOG="$SHOPSPHERE_VAR_DIR/platform.log"
PLATFORM_PIDFILE="$SHOPSPHERE_VAR_DIR/platform.pid"
PLATFORM_PID=""

# --- bookkeeping --------------------------------------------------------------
STAGES=()     # "name|PASS|seconds" lines for the summary
FAILED=0
# Test counts over all runners, for the closing "N passed, N failed" line.
N_PASSED=0 N_FAILED=0 N_SKIPPED=0
T_STAGE=""

banner() {
  printf '\n\033[1m==== %s ====\033[0m\n' "$*"
}
now() { echo "${EPOCHREALTIME:-$(date +%s.%N)}"; }
stage_begin() { banner "$1"; T_STAGE="$(now)"; }
# stage_end NAME STATUS: STATUS is PASS, FAIL or SKIP.
stage_end() {
  local secs
  secs="$(awk -v a="$T_STAGE" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')"
  STAGES+=("$1|$2|$secs")
  [[ "$2" == FAIL ]] && FAILED=1
  echo "---- $1: $2 (${secs} s)"
}
stage_skip() { STAGES+=("$1|SKIP|-"); echo "---- $1: SKIP ($2)"; }

# Run CMD as stage NAME; returns CMD's status without tripping set -e.
run_stage() {
  local name="$1"; shift
  stage_begin "$name"
  local rc=0
  "$@" || rc=$?
  if ((rc == 0)); then stage_end "$name" PASS; else stage_end "$name" FAIL; fi
  return "$rc"
}

log_tail() {
  echo "----- last lines of $PLATFORM_LOG -----"
  tail -n 60 "$PLATFORM_LOG" 2>/dev/null || true
  echo "-----"
}

# --- the platform under test ----------------------------------------------------
# A platform left behind by an interrupted earlier run would hold the ports.
stop_stale_platform() {
  local pid
  pid="$(cat "$PLATFORM_PIDFILE" 2>/dev/null || true)"
  if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
     grep -q shopsphere "/proc/$pid/cmdline" 2>/dev/null; then
    echo "test: stopping a platform left by an earlier run (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    wait_pid_gone "$pid" 30 || kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$PLATFORM_PIDFILE"
}

wait_pid_gone() { # PID SECONDS
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.1
  done
  return 1
}

start_platform() {
  stop_stale_platform
  if (exec 3<>"/dev/tcp/127.0.0.1/$SHOPSPHERE_PORT_BASE") 2>/dev/null; then
    echo "test: port $SHOPSPHERE_PORT_BASE is already in use by another program" >&2
    return 1
  fi
  : >"$PLATFORM_LOG"
  # Its own session (setsid): Ctrl-C reaches us, and we stop it in order.
  setsid "$BIN" up </dev/null >>"$PLATFORM_LOG" 2>&1 &
  PLATFORM_PID=$!
  echo "$PLATFORM_PID" >"$PLATFORM_PIDFILE"
  echo "test: shopsphere up (pid $PLATFORM_PID), log $PLATFORM_LOG"
  # Ready = the gateway and every service answer /healthz 200 (in `up`
  # each is its own process and they come up one by one). Ports: DESIGN §1,
  # base + 0..12 for the gateway and services, + 15/16/17 for the sandboxes.
  local offsets=(0 1 2 3 4 5 6 7 8 9 10 11 12 15 16 17) off url code="" t0=$SECONDS
  for off in "${offsets[@]}"; do
    url="http://127.0.0.1:$((SHOPSPHERE_PORT_BASE + off))/healthz"
    while :; do
      code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)"
      [[ "$code" == 200 ]] && break
      if ! kill -0 "$PLATFORM_PID" 2>/dev/null; then
        echo "test: shopsphere up exited during start-up" >&2
        log_tail
        return 1
      fi
      if ((SECONDS - t0 >= 60)); then
        echo "test: $url did not answer 200 within 60 s (last: ${code:-none})" >&2
        log_tail
        return 1
      fi
      sleep 0.1
    done
  done
  echo "test: all ${#offsets[@]} ports (gateway, services, sandboxes) answer /healthz after $((SECONDS - t0)) s"
}

# SIGTERM to the supervisor, which stops its services. A non-zero exit (a
# sanitizer's leak report, a crash) fails the stage.
stop_platform() {
  [[ -n "$PLATFORM_PID" ]] || return 0
  local pid="$PLATFORM_PID" rc=0
  PLATFORM_PID=""
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_pid_gone "$pid" 30; then
      echo "test: the platform did not stop within 30 s; killing it" >&2
      kill -KILL -- "-$pid" 2>/dev/null || true
      rc=1
    fi
  fi
  local status=0
  wait "$pid" 2>/dev/null || status=$?
  rm -f "$PLATFORM_PIDFILE"
  if ((status != 0)); then
    echo "test: shopsphere up exited with status $status" >&2
    rc=1
  fi
  # Services restarted by the supervisor after a sanitizer abort still let
  # the tests pass: the log is the witness.
  if grep -nE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: (Address|Leak|UndefinedBehavior)Sanitizer' \
       "$PLATFORM_LOG" >/dev/null 2>&1; then
    echo "test: sanitizer reports in $PLATFORM_LOG:" >&2
    grep -nE -A25 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$PLATFORM_LOG" | head -n 120 >&2 || true
    rc=1
  fi
  return "$rc"
}

# run_logged LOG CMD...: run CMD with its output on the terminal and in LOG.
# It runs in the background and we wait for it: bash runs a trap only after
# the foreground command ends, and a SIGTERM must not wait for a 50 s suite.
CHILD=""
run_logged() {
  local log="$1"; shift
  ( "$@" 2>&1 | tee "$log"; exit "${PIPESTATUS[0]}" ) &
  CHILD=$!
  local rc=0
  wait "$CHILD" || rc=$?
  CHILD=""
  return "$rc"
}

# kill_tree PID: SIGTERM to PID and all its descendants.
kill_tree() {
  local c
  for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do kill_tree "$c"; done
  kill -TERM "$1" 2>/dev/null || true
}

# ctest, counting its tests: "90% tests passed, 1 tests failed out of 10".
unit_tests() {
  local log="$SHOPSPHERE_VAR_DIR/unit.log" rc=0 line total failed
  run_logged "$log" ctest --test-dir "$BUILD_DIR" --output-on-failure || rc=$?
  line="$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n1 || true)"
  if [[ -n "$line" ]]; then
    failed="$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")"
    total="$(sed -E 's/.* failed out of ([0-9]+).*/\1/' <<<"$line")"
    N_PASSED=$((N_PASSED + total - failed)); N_FAILED=$((N_FAILED + failed))
  fi
  return "$rc"
}

system_tests() {
  local files=()
  mapfile -t files < <(find tests/system -name "*${ONLY}*.test.mjs" -type f 2>/dev/null | sort)
  if ((${#files[@]} == 0)); then
    echo "test: no tests/system/*.test.mjs yet"
    return 0
  fi
  local args=(--test)
  # --test-concurrency arrived in Node 20.10/21; older runners take no flag.
  if node --help 2>/dev/null | grep -q -- '--test-concurrency'; then
    args+=(--test-concurrency=1)
  fi
  local log="$SHOPSPHERE_VAR_DIR/system.log" rc=0 n
  # lib.mjs records each documented operation it checked here (coverage).
  export SHOPSPHERE_CONTRACT_HITS="$SHOPSPHERE_VAR_DIR/contract-hits"
  rm -rf "$SHOPSPHERE_CONTRACT_HITS"
  run_logged "$log" node "${args[@]}" "${files[@]}" || rc=$?
  # The runner's closing lines: "# pass N", "# fail N", "# skipped N".
  n="$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$log" | tail -n1)"; N_PASSED=$((N_PASSED + ${n:-0}))
  n="$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$log" | tail -n1)"; N_FAILED=$((N_FAILED + ${n:-0}))
  n="$(sed -n 's/^# skipped \([0-9]*\)$/\1/p' "$log" | tail -n1)"; N_SKIPPED=$((N_SKIPPED + ${n:-0}))
  return "$rc"
}

# The API documents' checks; the contract self-tests count with the rest.
api_checks() {
  local log="$SHOPSPHERE_VAR_DIR/api.log" rc=0 n
  run_logged "$log" scripts/api-check.sh || rc=$?
  n="$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$log" | tail -n1)"; N_PASSED=$((N_PASSED + ${n:-0}))
  n="$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$log" | tail -n1)"; N_FAILED=$((N_FAILED + ${n:-0}))
  # A lint or drift failure is one more failed test.
  if ((rc != 0)) && [[ "${n:-0}" == 0 ]]; then N_FAILED=$((N_FAILED + 1)); fi
  return "$rc"
}

# The other topology: every service in one process, calls between them
# dispatched in-process. A short smoke run: it starts, a registration (user
# calls auth in-process) and a catalog read through the gateway work, and it
# stops cleanly without sanitizer reports.
# Browser journeys (tests/e2e, Playwright in Debian's Chromium) against the
# same platform; screenshots under $SHOPSPHERE_VAR_DIR/e2e.
e2e_tests() {
  local files=()
  mapfile -t files < <(find tests/e2e -name "*${ONLY}*.test.mjs" -type f 2>/dev/null | sort)
  if ((${#files[@]} == 0)); then
    echo "test: no tests/e2e/*${ONLY}*.test.mjs"
    return 0
  fi
  local log="$SHOPSPHERE_VAR_DIR/e2e.log" rc=0 n
  run_logged "$log" node --test --test-concurrency=1 "${files[@]}" || rc=$?
  n="$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$log" | tail -n1)"; N_PASSED=$((N_PASSED + ${n:-0}))
  n="$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$log" | tail -n1)"; N_FAILED=$((N_FAILED + ${n:-0}))
  n="$(sed -n 's/^# skipped \([0-9]*\)$/\1/p' "$log" | tail -n1)"; N_SKIPPED=$((N_SKIPPED + ${n:-0}))
  return "$rc"
}

one_process_smoke() {
  local log="$SHOPSPHERE_VAR_DIR/one-process.log" pid rc=0 code="" t0=$SECONDS
  : >"$log"
  setsid "$BIN" serve --services=all </dev/null >>"$log" 2>&1 &
  pid=$!
  local url="http://127.0.0.1:$SHOPSPHERE_PORT_BASE"
  while [[ "$code" != 200 ]]; do
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url/api/v1/health/auth" || true)"
    if ! kill -0 "$pid" 2>/dev/null || ((SECONDS - t0 >= 60)); then
      echo "test: serve --services=all did not come up (last: ${code:-none})" >&2
      tail -n 40 "$log" >&2
      kill -KILL -- "-$pid" 2>/dev/null || true
      return 1
    fi
    sleep 0.2
  done
  local email="one-process-$RANDOM$RANDOM@example.com"
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 -H 'content-type: application/json' \
    -d "{\"email\":\"$email\",\"password\":\"correct horse battery 42\",\"username\":\"op$RANDOM$RANDOM\",\"first_name\":\"One\",\"last_name\":\"Process\"}" \
    "$url/api/v1/users" || true)"
  [[ "$code" == 201 ]] || { echo "test: registration in one process answered ${code:-nothing}, want 201" >&2; rc=1; }
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url/api/v1/products?limit=5" || true)"
  [[ "$code" == 200 ]] || { echo "test: product list in one process answered ${code:-nothing}, want 200" >&2; rc=1; }
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_pid_gone "$pid" 30; then
    echo "test: serve --services=all did not stop within 30 s" >&2
    kill -KILL -- "-$pid" 2>/dev/null || true
    rc=1
  fi
  local status=0
  wait "$pid" 2>/dev/null || status=$?
  ((status == 0)) || { echo "test: serve --services=all exited with status $status" >&2; rc=1; }
  if grep -nE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$log" >&2; then
    rc=1
  fi
  ((rc == 0)) && N_PASSED=$((N_PASSED + 1)) || N_FAILED=$((N_FAILED + 1))
  return "$rc"
}

# The quick chaos drill: its own fresh servers and platform of the profile
# (the system tests' platform is stopped by then), faults under load, the
# invariants checked (exit 1 on a broken one). One test in the counts.
chaos_quick() {
  local log="$SHOPSPHERE_VAR_DIR/chaos.log" rc=0
  SHOPSPHERE_TEST_PROFILE="$TEST_PROFILE" run_logged "$log" \
    scripts/chaos.sh --quick --build-dir "$BUILD_DIR" --keep-infra || rc=$?
  ((rc == 0)) && N_PASSED=$((N_PASSED + 1)) || N_FAILED=$((N_FAILED + 1))
  return "$rc"
}

# --- clean-up, always -----------------------------------------------------------
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$CHILD" ]]; then kill_tree "$CHILD"; wait "$CHILD" 2>/dev/null || true; fi
  if [[ -n "$PLATFORM_PID" ]]; then
    run_stage shutdown stop_platform || true
  fi
  if ((KEEP_INFRA)); then
    echo "test: leaving the test servers running (--keep-infra)"
  else
    banner "stopping the test servers"
    scripts/infra.sh stop all --profile "$TEST_PROFILE" || FAILED=1
  fi
  banner "summary"
  local line name st secs
  for line in "${STAGES[@]}"; do
    IFS='|' read -r name st secs <<<"$line"
    printf '  %-10s %-5s %6s s\n' "$name" "$st" "$secs"
  done
  ((rc == 0)) || FAILED=1   # interrupted, or a command failed unexpectedly
  if ((FAILED)); then echo "test: FAILED"; else echo "test: all stages passed"; fi
  # Last, alone on its line: the counts over every runner.
  echo "tests: $N_PASSED passed, $N_FAILED failed, $N_SKIPPED skipped"
  exit "$FAILED"
}
trap cleanup EXIT
trap 'echo "test: interrupted" >&2; FAILED=1; exit 130' INT TERM

# --- the run --------------------------------------------------------------------
if [[ ! -x "$BIN" ]]; then
  echo "test: $BIN is missing: build it first (make build-asan, or make test)" >&2
  FAILED=1
  exit 1
fi

# Every run starts from empty servers, as CI's fresh clone does: no rows,
# keys or queued events left by an earlier run. (secrets.env stays.)
start_infra() {
  if ((!KEEP_DATA)); then
    scripts/infra.sh stop all --profile "$TEST_PROFILE"
    rm -rf "$SHOPSPHERE_VAR_DIR"/{postgres,redis,rabbitmq}
  fi
  scripts/infra.sh start all --profile "$TEST_PROFILE"
}

if ((RUN_API)); then
  run_stage api api_checks || true
else
  stage_skip api "--no-api"
fi

if ! run_stage infra start_infra; then
  exit 1
fi

if ((RUN_UNIT)); then
  run_stage unit unit_tests || true
  # Offline: manifests, rules and dashboards of deploy/ (no servers needed).
  run_stage deploy scripts/deploy-check.sh || true
else
  stage_skip unit "--no-unit"
  stage_skip deploy "--no-unit"
fi

if ((RUN_SYSTEM)); then
  if run_stage migrate "$BIN" migrate; then
    if run_stage platform start_platform; then
      run_stage system system_tests || true
      if [[ -z "$ONLY" ]]; then
        run_stage coverage node tests/contract/coverage.mjs "$SHOPSPHERE_VAR_DIR/contract-hits" || true
      else
        stage_skip coverage "--only"
      fi
      run_stage e2e e2e_tests || true
      run_stage shutdown stop_platform || true
      run_stage one-process one_process_smoke || true
      if [[ -n "$ONLY" ]]; then
        stage_skip chaos "--only"
      elif ((!RUN_CHAOS)); then
        stage_skip chaos "--no-chaos"
      else
        run_stage chaos chaos_quick || true
      fi
    else
      stage_skip system "the platform did not start"
      stop_platform >/dev/null 2>&1 || true
    fi
  else
    stage_skip platform "migrations failed"
    stage_skip system "migrations failed"
  fi
else
  stage_skip system "--no-system"
fi
# cleanup (trap) stops the servers and prints the summary.
