#!/usr/bin/env bash
# Benchmarks of the HTTP path, in both topologies, against the machine's
# ceiling. Uses the `bench` profile (var/bench; PostgreSQL 54322, Redis 63792,
# RabbitMQ 56722, services on 28080+) so that neither `make run` nor
# `make test` is disturbed, though they do share the CPUs.
#
# A row is one call: bench_row NAME TOPOLOGY URL [options]; the rows measured
# in each platform topology are listed in bench_rows below.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"

usage() {
  cat <<'EOF'
usage: scripts/bench.sh [--runs N] [--duration 10s] [--threads 2] [--connections 64]
                        [--warmup 2s] [--keep-infra] [--only one-process|per-service|events|search-100k|loadtest|search]
                        [--topology one-process|per-service]

Measures, with wrk (-t2 -c64 -d10s, 3 runs each, medians reported):
  nginx        a 1.5 KB static JSON file (nginx, 2 workers): the machine's ceiling
  one-process  shopsphere serve --services=all
  per-service  shopsphere up (one process per service)
For each topology: the product service's /healthz directly (port base+2) and
through the gateway (/api/v1/health/product). Prints a table (req/s, p50,
p99, ratio to nginx, gateway/direct) and writes bench/results.json.

Then, in the per-service topology, the seed's load test (`shopsphere
loadtest`, ramp to 100 then 200 shoppers) with the strict SLO of DESIGN §8;
its verdict is a row. --only loadtest runs just the per-service cart row and
the load test; SHOPSPHERE_LOADTEST_STAGES shortens its stages (k6 syntax,
e.g. 10s:100,20s:100,10s:200,20s:200,10s:0). --only search runs just the
search, suggest, search-lag and recommendation rows in each topology.
--topology limits the platform rows to one topology.

Run `make build` first (`make bench` does). The bench servers (var/bench) are
started if needed and stopped afterwards unless --keep-infra.
Environment: SHOPSPHERE_BIN (default build/release/shopsphere); the platform
gets the bench profile (scripts/profile.sh bench) and a rate limit high
enough not to throttle the load generator.
EOF
}

RUNS=3
DURATION=10s
THREADS=2
CONNECTIONS=64
WARMUP=2s
KEEP_INFRA=0
ONLY=""
TOPOLOGY=""
while (($#)); do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --keep-infra) KEEP_INFRA=1; shift ;;
    --only) ONLY="$2"; shift 2 ;;
    --topology) TOPOLOGY="$2"; shift 2 ;;
    *) echo "bench: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

# shellcheck source=scripts/profile.sh
# SHOPSPHERE_BENCH_PROFILE=w1..w8 runs it on a private profile instead.
BENCH_PROFILE="${SHOPSPHERE_BENCH_PROFILE:-bench}"
. scripts/profile.sh "$BENCH_PROFILE"
BIN="${SHOPSPHERE_BIN:-build/release/shopsphere}"
BASE="$SHOPSPHERE_PORT_BASE"
WORK="$SHOPSPHERE_VAR_DIR"
RESULTS="$ROOT/bench/results.json"
REPORT_LUA="$ROOT/bench/wrk/report.lua"
# The gateway's default budget (100 req/min per client) would turn the load
# generator's requests into 429s: measure the path, not the limiter.
export SHOPSPHERE_RATE_LIMIT_PER_MINUTE="${SHOPSPHERE_RATE_LIMIT_PER_MINUTE:-100000000}"

say() { echo "[bench] $*"; }
die() { echo "[bench] error: $*" >&2; exit 1; }

command -v wrk >/dev/null || die "wrk is missing (scripts/install-deps.sh)"
[[ -x "$BIN" ]] || die "$BIN is missing: run 'make build' first"
mkdir -p "$WORK" "$ROOT/bench"

# --- results --------------------------------------------------------------------
# One entry per row, index-aligned.
R_NAME=() R_TOPO=() R_URL=() R_RPS=() R_P50=() R_P99=() R_ERRORS=()
R_RUNS=() R_BASELINE=() R_NOTE=() R_MIN_RPS=() R_MAX_P99=()
NGINX_RPS=""

# median V...: the middle value (mean of the two middle ones for an even count).
median() {
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
    END { if (NR == 0) print ""; else if (NR % 2) print v[(NR + 1) / 2];
          else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# field LINE KEY: the value of KEY=... in a WRK_RESULT line.
field() { sed -n "s/.* $2=\\([^ ]*\\).*/\\1/p" <<<"$1"; }

# wait_2xx URL SECONDS: poll until URL answers 2xx.
wait_2xx() {
  local url="$1" secs="$2" i code=""
  for ((i = 0; i < secs * 10; i++)); do
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)"
    [[ "$code" == 2* ]] && return 0
    sleep 0.1
  done
  echo "$code"
  return 1
}

# bench_row NAME TOPOLOGY URL [--baseline NAME] [--script FILE]
#           [--min-rps N] [--max-p99 MS] [--connections N]
# Measures URL $RUNS times with wrk after a warm-up and records the medians.
#   --baseline NAME  also print this row's req/s relative to row NAME of the
#                    same topology (e.g. gateway vs. direct)
#   --script FILE    a wrk Lua script for the requests (POST bodies, paths);
#                    bench/wrk/report.lua is appended to it
#   --min-rps/--max-p99  the bar from DESIGN §8, shown as ok/MISS
bench_row() {
  local name="$1" topo="$2" url="$3"; shift 3
  local baseline="" script="" min_rps="" max_p99="" conns="$CONNECTIONS"
  while (($#)); do
    case "$1" in
      --baseline) baseline="$2"; shift 2 ;;
      --script) script="$2"; shift 2 ;;
      --min-rps) min_rps="$2"; shift 2 ;;
      --max-p99) max_p99="$2"; shift 2 ;;
      --connections) conns="$2"; shift 2 ;;
      *) die "bench_row: unknown option $1" ;;
    esac
  done
  local idx=${#R_NAME[@]}
  R_NAME+=("$name"); R_TOPO+=("$topo"); R_URL+=("$url"); R_BASELINE+=("$baseline")
  R_MIN_RPS+=("$min_rps"); R_MAX_P99+=("$max_p99")
  R_RPS+=(""); R_P50+=(""); R_P99+=(""); R_ERRORS+=(0); R_RUNS+=("[]"); R_NOTE+=("")

  mkdir -p "$WORK/wrk"
  local lua="$WORK/wrk/row-$idx.lua"
  { [[ -n "$script" ]] && cat "$script"; cat "$REPORT_LUA"; } >"$lua"

  say "$topo: $name: $url"
  local code
  if ! code="$(wait_2xx "$url" 30)"; then
    say "$topo: $name: not answering 2xx (last: ${code:-no answer}); row skipped"
    R_NOTE[idx]="unavailable (HTTP ${code:-none})"
    return 0
  fi
  wrk -t"$THREADS" -c"$conns" -d"$WARMUP" -s "$lua" "$url" >/dev/null 2>&1 || true

  local run out line rps=() p50=() p99=() errors=0 runs_json=""
  for ((run = 1; run <= RUNS; run++)); do
    if ! out="$(wrk -t"$THREADS" -c"$conns" -d"$DURATION" -s "$lua" "$url" 2>&1)"; then
      say "$topo: $name: wrk failed: $out"
      R_NOTE[idx]="wrk failed"
      return 0
    fi
    line="$(grep '^WRK_RESULT' <<<"$out" || true)"
    [[ -n "$line" ]] || { say "wrk printed no result: $out"; R_NOTE[idx]="no result"; return 0; }
    local r q50 q99 e
    r="$(field "$line" rps)"; q50="$(field "$line" p50_ms)"; q99="$(field "$line" p99_ms)"
    e=$(( $(field "$line" errors_connect) + $(field "$line" errors_read) +
          $(field "$line" errors_write) + $(field "$line" errors_status) +
          $(field "$line" errors_timeout) ))
    rps+=("$r"); p50+=("$q50"); p99+=("$q99"); errors=$((errors + e))
    runs_json+="${runs_json:+, }{\"rps\": $r, \"p50_ms\": $q50, \"p99_ms\": $q99, \"errors\": $e}"
    say "$topo: $name: run $run/$RUNS: $(printf '%.0f' "$r") req/s, p50 $q50 ms, p99 $q99 ms$( ((e == 0)) || echo ", errors $e")"
  done
  R_RPS[idx]="$(median "${rps[@]}")"
  R_P50[idx]="$(median "${p50[@]}")"
  R_P99[idx]="$(median "${p99[@]}")"
  R_ERRORS[idx]="$errors"
  R_RUNS[idx]="[$runs_json]"
  ((errors == 0)) || R_NOTE[idx]="$errors errors (non-2xx, timeouts, socket)"
}

# The rows of one platform topology. Later workloads join here.
bench_rows() {
  local topo="$1"
  bench_row "product health (direct)" "$topo" "http://127.0.0.1:$((BASE + 2))/healthz"
  bench_row "product health (gateway)" "$topo" \
    "http://127.0.0.1:$BASE/api/v1/health/product" --baseline "product health (direct)"
  gateway_rows "$topo"
  catalog_rows "$topo"
  payment_rows "$topo"
  identity_rows "$topo"
  checkout_rows "$topo"
  search_rows "$topo"
  notification_rows "$topo"
  recommendation_rows "$topo"
  cart_rows "$topo"
  [[ "$topo" == per-service ]] && loadtest_row "$topo"
  return 0
}

# Signed-in cart create + add item through the gateway (DESIGN §8: >= 3,000
# ops/s, p99 < 20 ms): bench/wrk/cart.lua alternates POST /carts and POST
# /carts/{id}/items for one signed-in customer on a catalog product. An op
# is the pair: the row's req/s is ops/s (wrk's req/s halved); p50/p99 are
# per request.
cart_rows() {
  local topo="$1" email password token id idx
  id="$(curl -s --max-time 5 "http://127.0.0.1:$BASE/api/v1/products?limit=1" |
        grep -o '"id":"[0-9a-f-]*"' | head -n1 | cut -d'"' -f4 || true)"
  email="bench-cart-$(date +%s%N)@example.com"
  password="Bench-Password-$RANDOM$RANDOM"
  # Retried while the user and auth services finish starting.
  local i
  for ((i = 0; i < 30; i++)); do
    token="$(sign_up_and_in "http://127.0.0.1:$BASE" "http://127.0.0.1:$BASE" \
      "$email" "$password")"
    [[ -n "$token" ]] && break
    sleep 1
  done
  if [[ -z "$id" || -z "$token" ]]; then
    say "$topo: no product or no signed-in customer: cart row skipped"
    return 0
  fi
  idx=${#R_NAME[@]}
  BENCH_ACCESS_TOKEN="$token" BENCH_PRODUCT_ID="$id" \
    bench_row "cart create + add (gateway)" "$topo" \
    "http://127.0.0.1:$BASE/api/v1/health/cart" --script "$ROOT/bench/wrk/cart.lua" \
    --min-rps 3000 --max-p99 20
  [[ -n "${R_RPS[idx]}" ]] && R_RPS[idx]="$(awk -v r="${R_RPS[idx]}" 'BEGIN { printf "%.1f", r / 2 }')"
  R_NOTE[idx]="${R_NOTE[idx]:+${R_NOTE[idx]}; }ops/s (create + add pairs); p50/p99 per request"
}

# The seed's load test (DESIGN §8 "seed k6 ramp"): `shopsphere loadtest
# --slo strict` against this platform, once (it ramps for 3.5 minutes; a
# median of runs would triple that). Its own summary (per step and stage
# p50/p95/p99) is printed; the row carries req/s, p50, p99 and the verdict
# of every strict bar; the JSON report is bench/loadtest.json.
loadtest_row() {
  local topo="$1" name="seed load test, strict SLO" idx=${#R_NAME[@]} rc=0 out
  local report="$ROOT/bench/loadtest.json"
  R_NAME+=("$name"); R_TOPO+=("$topo"); R_URL+=("shopsphere loadtest --slo strict")
  R_BASELINE+=(""); R_MIN_RPS+=(""); R_MAX_P99+=(100)
  R_RPS+=(""); R_P50+=(""); R_P99+=(""); R_ERRORS+=(0); R_RUNS+=("[]"); R_NOTE+=("")
  say "$topo: $name"
  out="$("$BIN" loadtest --base "http://127.0.0.1:$BASE" --slo strict --quiet \
          ${SHOPSPHERE_LOADTEST_STAGES:+--stages "$SHOPSPHERE_LOADTEST_STAGES"} \
          --report "$report" 2>&1)" || rc=$?
  sed 's/^/[bench]   /' <<<"$out"
  if ((rc != 0 && rc != 1)) || [[ ! -s "$report" ]]; then
    R_NOTE[idx]="loadtest failed (exit $rc)"
    return 0
  fi
  local line
  line="$(node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const bad = r.thresholds.filter((t) => !t.ok).map((t) => `${t.step} ${t.metric}`);
    console.log(`${r.total.rps.toFixed(1)} ${r.total.p50_ms.toFixed(2)} ${r.total.p99_ms.toFixed(2)} ${r.total.errors} ${r.total.p95_ms.toFixed(2)} ${r.passed ? "PASS" : "FAIL"} ${bad.join(",") || "-"}`);
  ' "$report")" || { R_NOTE[idx]="unreadable report"; return 0; }
  local rps p50 p99 errors p95 verdict failed
  read -r rps p50 p99 errors p95 verdict failed <<<"$line"
  R_RPS[idx]="$rps"; R_P50[idx]="$p50"; R_P99[idx]="$p99"; R_ERRORS[idx]="$errors"
  R_RUNS[idx]="[{\"rps\": $rps, \"p50_ms\": $p50, \"p95_ms\": $p95, \"p99_ms\": $p99, \"errors\": $errors}]"
  R_NOTE[idx]="strict SLO $verdict; p95 $p95 ms; errors $errors"
  [[ "$verdict" == FAIL ]] && R_NOTE[idx]+="; failed: $failed"
  say "$topo: $name: $verdict (p95 $p95 ms, p99 $p99 ms, errors $errors)"
}

# Authorizations per second through the payment service (docs/payments.md):
# each request is a new order's POST /internal/payments/authorize on the
# payment service's port, which writes the payment, calls the sandbox card
# processor over HTTP (create + confirm) and writes the outcome with its
# event. The URL is the health route (for the readiness wait); the Lua script
# sends the POSTs.
payment_rows() {
  local topo="$1"
  bench_row "payment authorize (direct)" "$topo" \
    "http://127.0.0.1:$((BASE + 5))/healthz" \
    --script "$ROOT/bench/wrk/payment_authorize.lua"
}

# The catalog's read bar (DESIGN §8), via the gateway against the seeded demo
# catalog: a product's detail (cached) and a 20-item list page. Both are
# served from the product service's in-process cache of rendered JSON (1 s
# TTL, dropped at once by the product's change events) and the gateway's
# edge cache, so what limits them is the HTTP path: the gateway's hop to the
# product service, compared with the health rows above. Then the lag of an
# admin's price change through those warm caches.
catalog_rows() {
  local topo="$1" id
  id="$(curl -s --max-time 5 "http://127.0.0.1:$BASE/api/v1/products?limit=1" |
        grep -o '"id":"[0-9a-f-]*"' | head -n1 | cut -d'"' -f4 || true)"
  if [[ -z "$id" ]]; then
    say "$topo: the catalog is empty or unreachable: catalog rows skipped"
    return 0
  fi
  bench_row "product detail (gateway)" "$topo" \
    "http://127.0.0.1:$BASE/api/v1/products/$id" --min-rps 20000 --max-p99 10
  bench_row "product list 20 (gateway)" "$topo" \
    "http://127.0.0.1:$BASE/api/v1/products?limit=20" --min-rps 10000 --max-p99 15
  # A product page in one GraphQL request (no bar in DESIGN §8 yet).
  export GRAPHQL_PRODUCT_ID="$id"
  bench_row "GraphQL product page (gateway)" "$topo" \
    "http://127.0.0.1:$BASE/graphql" --script "$ROOT/bench/wrk/graphql_product.lua"
  edit_lag_row "$topo"
  first_paint_row "$topo"
}

# Search (DESIGN §8, docs/search.md), via the gateway on the demo catalog:
# keyword queries with all five facets (bench/wrk/search.lua rotates words,
# phrases, a typo, a prefix, filters and sorts), suggestions as a shopper
# types (bench/wrk/suggest.lua), and the lag from a catalog change to its
# first search hit (bench/search_lag.mjs). The index fills itself from the
# catalog when the platform starts: the rows wait until it holds every
# active product. SUFFIX names the catalog size in the row names.
search_rows() {
  local topo="$1" suffix="${2:-1k products}" want="${3:-}" i total=""
  # A 100k fill is read from the catalog page by page, then written in one
  # transaction: minutes on a loaded machine, so up to half an hour.
  local wait_s=600
  [[ -n "$want" ]] && wait_s=1800
  for ((i = 0; i < wait_s; i++)); do
    total="$(curl -s --max-time 5 "http://127.0.0.1:$BASE/api/v1/search?limit=1" |
             grep -o '"total":[0-9]*' | cut -d: -f2 || true)"
    [[ -n "$total" && "$total" != 0 && ( -z "$want" || "$total" -ge "$want" ) ]] && break
    ((i % 60 == 59)) && say "$topo: waiting for the search index: ${total:-no answer} of ${want:-any} products"
    sleep 1
  done
  if [[ -z "$total" || "$total" == 0 ]]; then
    say "$topo: the search index is empty or unreachable: search rows skipped"
    return 0
  fi
  say "$topo: search index holds $total products"
  local bar_p99=30 bar_rps=3000
  [[ -n "$want" ]] && { bar_p99=100; bar_rps=""; }
  bench_row "search, keyword + facets, $suffix (gateway)" "$topo" \
    "http://127.0.0.1:$BASE/api/v1/search?q=tee" --script "$ROOT/bench/wrk/search.lua" \
    ${bar_rps:+--min-rps "$bar_rps"} --max-p99 "$bar_p99"
  # The same queries, every request a miss of the service's answer cache
  # (bench/wrk/search_uncached.lua): what a long tail of distinct queries
  # costs, the SQL with its facets each time.
  bench_row "search, uncached, $suffix (gateway)" "$topo" \
    "http://127.0.0.1:$BASE/api/v1/search?q=tee" --script "$ROOT/bench/wrk/search_uncached.lua" \
    ${bar_rps:+--min-rps "$bar_rps"} --max-p99 "$bar_p99"
  bench_row "search suggest, $suffix (gateway)" "$topo" \
    "http://127.0.0.1:$BASE/api/v1/search/suggest?q=no" --script "$ROOT/bench/wrk/suggest.lua" \
    --min-rps 10000 --max-p99 10
  search_lag_row "$topo" "${2:+, $suffix}"
  return 0
}

# lag_row TOPOLOGY NAME SCRIPT MARKER BAR_MS NOTE: a change -> visible lag,
# measured $RUNS times by a bench/*.mjs script (50 changes each) that prints
# one line "MARKER ... p50_ms=.. p99_ms=..".
lag_row() {
  local topo="$1" name="$2" script="$3" marker="$4" bar="$5" note="$6"
  local idx=${#R_NAME[@]} run out line p50=() p99=() runs_json=""
  R_NAME+=("$name"); R_TOPO+=("$topo")
  R_URL+=("node $script"); R_BASELINE+=(""); R_MIN_RPS+=("")
  R_MAX_P99+=("$bar"); R_RPS+=(""); R_P50+=(""); R_P99+=(""); R_ERRORS+=(0)
  R_RUNS+=("[]"); R_NOTE+=("")
  for ((run = 1; run <= RUNS; run++)); do
    if ! out="$(node "$ROOT/$script" "http://127.0.0.1:$BASE" 50 2>&1)"; then
      say "$topo: $name failed: $(tail -n 2 <<<"$out")"
      R_NOTE[idx]="$name failed"
      return 0
    fi
    line="$(grep "^$marker" <<<"$out" || true)"
    p50+=("$(field "$line" p50_ms)"); p99+=("$(field "$line" p99_ms)")
    runs_json+="${runs_json:+, }{\"rps\": 0, \"p50_ms\": ${p50[-1]}, \"p99_ms\": ${p99[-1]}, \"errors\": 0}"
    say "$topo: $name: run $run/$RUNS: p50 ${p50[-1]} ms, p99 ${p99[-1]} ms"
  done
  R_P50[idx]="$(median "${p50[@]}")"
  R_P99[idx]="$(median "${p99[@]}")"
  R_RUNS[idx]="[$runs_json]"
  R_NOTE[idx]="$note"
}

# The catalog change -> searchable lag (bar: p99 under a second); $2 is
# appended to the row's name (the catalog's size when it is not the demo's).
search_lag_row() {
  lag_row "$1" "search lag, catalog change to hit${2:-}" bench/search_lag.mjs SEARCH_LAG 1000 \
    "ms from POST /products answered to the first search that finds it"
}

# An admin's price change -> visible through the warm caches (issue 16: p99
# under 100 ms; the caches drop entries on the product's event).
edit_lag_row() {
  lag_row "$1" "price edit lag, PATCH to visible (gateway)" bench/edit_lag.mjs EDIT_LAG 100 \
    "ms from PATCH /products/{id} answered to the first cached read showing the new price"
}

# The storefront's first product list painted in Chromium after a
# navigation to a category page (issue 15: a second on the local stack;
# measured here, never asserted in a test).
first_paint_row() {
  lag_row "$1" "storefront first product list painted (Chromium)" bench/first_paint.mjs FIRST_PAINT 1000 \
    "ms from navigating to a category page (fresh context) to its first product card painted"
}

# Search on a 100,000-product catalog (DESIGN §8: p99 < 100 ms), one-process
# topology. It lives in its own database of the bench server
# (shopsphere_search100k), so the other rows keep the 1,000-product demo
# catalog. Seeded once (later runs find it); the seed's product.created
# events are dropped from that database's outbox before the platform starts,
# and the search service fills its index from the catalog API instead (its
# initial fill, the same code as `shopsphere search reindex`).
search_100k_rows() {
  local db_url="${SHOPSPHERE_DATABASE_URL%/*}/shopsphere_search100k"
  command -v psql >/dev/null || { say "psql is missing: 100k search rows skipped"; return 0; }
  if ! psql -X -q "$SHOPSPHERE_DATABASE_URL" -tAc \
       "SELECT 1 FROM pg_database WHERE datname = 'shopsphere_search100k'" | grep -q 1; then
    psql -X -q "$SHOPSPHERE_DATABASE_URL" -c "CREATE DATABASE shopsphere_search100k" ||
      { say "cannot create the 100k database: rows skipped"; return 0; }
  fi
  say "100k catalog: migrations and seed (the first time takes minutes)"
  SHOPSPHERE_DATABASE_URL="$db_url" "$BIN" migrate >/dev/null
  local have
  have="$(psql -X -q "$db_url" -tAc "SELECT count(*) FROM product.products" 2>/dev/null || echo 0)"
  if ((${have:-0} < 100000)); then
    # its progress bar goes to stderr; a partial seed from an interrupted
    # run is completed (products are keyed by SKU)
    SHOPSPHERE_DATABASE_URL="$db_url" "$BIN" seed --products 100000 >/dev/null
  else
    say "100k catalog: $have products already seeded"
  fi
  # (vacuumed: the outbox gauge counts this table every second, and 100,000
  # dead rows made that count take a few hundred milliseconds)
  psql -X -q "$db_url" -c "DELETE FROM product.outbox" -c "VACUUM product.outbox" >/dev/null || true
  SHOPSPHERE_DATABASE_URL="$db_url" start_platform one-process
  search_rows one-process "100k products" 100000
  stop_platform
}

# Recommendations (DESIGN §8, docs/recommendations.md): a product's
# bought-together list through the gateway. The list is precomputed (one
# indexed read), kept rendered in the service's memory and in the gateway's
# edge cache for SHOPSPHERE_RECOMMENDATION_CACHE_MS (1 s), so this measures
# the gateway's path. The product is the top trending one (the demo history
# of the seed gives it bought-together items within seconds of the start).
recommendation_rows() {
  local topo="$1" id="" body="" i
  for ((i = 0; i < 60; i++)); do
    body="$(curl -s --max-time 5 "http://127.0.0.1:$BASE/api/v1/recommendations/trending?limit=1" || true)"
    id="$(grep -o '"id": *"[0-9a-f-]*"' <<<"$body" | head -n1 | grep -o '[0-9a-f-]\{36\}' || true)"
    [[ -n "$id" && "$body" == *'"reason":"trending"'* ]] && break
    sleep 1
  done
  if [[ -z "$id" ]]; then
    say "$topo: no product to recommend for: recommendation row skipped"
    return 0
  fi
  bench_row "recommendations (gateway)" "$topo" \
    "http://127.0.0.1:$BASE/api/v1/recommendations/products/$id?kind=bought_together" \
    --min-rps 10000 --max-p99 10
}

# The gateway's overhead (docs/gateway.md): every request through it pays the
# edge chain (route match, auth, the rate limit (Redis, leased in batches for
# busy clients), CORS,
# access log) and the forward. gw/direct is the ratio of req/s through the
# gateway to req/s from the service directly: in-process dispatch in
# one-process, a kept-alive HTTP hop in per-service. The web page is
# answered by the gateway alone (rate limit, file, ETag).
gateway_rows() {
  local topo="$1"
  bench_row "edge: recommendation health (direct)" "$topo" \
    "http://127.0.0.1:$((BASE + 12))/healthz"
  bench_row "edge: recommendation health (gateway)" "$topo" \
    "http://127.0.0.1:$BASE/api/v1/health/recommendation" \
    --baseline "edge: recommendation health (direct)"
  bench_row "edge: web page (gateway)" "$topo" "http://127.0.0.1:$BASE/"
}

# sign_up_and_in USERS_BASE AUTH_BASE EMAIL PASSWORD: registers the account
# (POST USERS_BASE/api/v1/users; an existing one is fine), signs it in
# (POST AUTH_BASE/api/v1/auth/login) and prints its access token, or nothing.
sign_up_and_in() {
  curl -s --max-time 10 -o /dev/null -X POST -H 'Content-Type: application/json' \
    -d "{\"email\":\"$3\",\"password\":\"$4\",\"username\":\"b$(date +%s%N | tail -c 12)\"}" \
    "$1/api/v1/users" || true
  curl -s --max-time 10 -X POST -H 'Content-Type: application/json' \
    -d "{\"email\":\"$3\",\"password\":\"$4\"}" "$2/api/v1/auth/login" |
    grep -o '"access_token":"[^"]*"' | cut -d'"' -f4 || true
}

# Identity (docs/identity.md), on the services' own ports so the gateway's
# small "auth" rate-limit class does not cap them:
#   logins/s: POST /auth/login on the auth service; bound by argon2id at the
#     profile's SHOPSPHERE_ARGON2_OPSLIMIT / _MEMLIMIT_KIB (default t=2,
#     m=19 MiB, p=1), one hash per login;
#   token verifications/s: GET /users/me on the user service: RS256 verify
#     against the cached JWKS, the Redis revocation check, one point read.
identity_rows() {
  local topo="$1" email password token
  email="bench-$(date +%s%N)@example.com"
  password="Bench-Password-$RANDOM$RANDOM"
  token="$(sign_up_and_in "http://127.0.0.1:$((BASE + 1))" \
    "http://127.0.0.1:$((BASE + 10))" "$email" "$password")"
  if [[ -z "$token" ]]; then
    say "$topo: could not register and log in a bench account: identity rows skipped"
    return 0
  fi
  local t="${SHOPSPHERE_ARGON2_OPSLIMIT:-2}" m="${SHOPSPHERE_ARGON2_MEMLIMIT_KIB:-19456}"
  BENCH_LOGIN_EMAIL="$email" BENCH_LOGIN_PASSWORD="$password" \
    bench_row "login, argon2id t=$t m=$((m / 1024))MiB (direct)" "$topo" \
    "http://127.0.0.1:$((BASE + 10))/healthz" \
    --script "$ROOT/bench/wrk/login.lua" --connections 16
  BENCH_ACCESS_TOKEN="$token" \
    bench_row "token verify + /users/me (direct)" "$topo" \
    "http://127.0.0.1:$((BASE + 1))/healthz" --script "$ROOT/bench/wrk/users_me.lua"
}

# The event bus end to end (docs/events.md): `shopsphere events bench` emits
# events from 4 threads (transactions of 50) into a throwaway schema's outbox;
# its relay publishes them to RabbitMQ with confirms and its consumer applies
# them (inbox insert + a handler that records the delay, one commit per
# batch). events/s counts until the last inbox row is committed; p50/p99 are
# the delays from emit to handler. Saturated: as fast as the emitters go (the
# delays then include the backlog); paced: a steady 5000 events/s (the bar),
# whose delays are the bus's own. No platform needed: run beside it.
events_rows() {
  events_row "event bus e2e, saturated" 5000 --events 20000
  events_row "event bus, paced 5000/s" "" --events 25000 --rate 5000 --batch 25
}

# events_row NAME MIN_RPS ARGS...: one row of `shopsphere events bench ARGS`.
events_row() {
  local name="$1" min_rps="$2" idx=${#R_NAME[@]} run out line; shift 2
  local eps=() p50=() p99=() runs_json=""
  R_NAME+=("$name"); R_TOPO+=("bus"); R_URL+=("shopsphere events bench $*")
  R_BASELINE+=(""); R_MIN_RPS+=("$min_rps"); R_MAX_P99+=("")
  R_RPS+=(""); R_P50+=(""); R_P99+=(""); R_ERRORS+=(0); R_RUNS+=("[]"); R_NOTE+=("")
  for ((run = 1; run <= RUNS; run++)); do
    if ! out="$("$BIN" events bench "$@" 2>&1)"; then
      say "bus: events bench failed: $(tail -n 3 <<<"$out")"
      R_NOTE[idx]="events bench failed"
      return 0
    fi
    line="$(grep '^BENCH_EVENTS' <<<"$out" || true)"
    eps+=("$(field "$line" eps)"); p50+=("$(field "$line" p50_ms)"); p99+=("$(field "$line" p99_ms)")
    runs_json+="${runs_json:+, }{\"rps\": ${eps[-1]}, \"p50_ms\": ${p50[-1]}, \"p99_ms\": ${p99[-1]}, \"errors\": 0}"
    say "bus: run $run/$RUNS: ${eps[-1]} events/s, p50 ${p50[-1]} ms, p99 ${p99[-1]} ms"
  done
  R_RPS[idx]="$(median "${eps[@]}")"
  R_P50[idx]="$(median "${p50[@]}")"
  R_P99[idx]="$(median "${p99[@]}")"
  R_RUNS[idx]="[$runs_json]"
  R_NOTE[idx]="events/s to consumer commit; p50/p99: emit to handler"
}

# Complete checkouts through the gateway (DESIGN §8, docs/checkout.md) with
# 16 and 64 concurrent buyers: bench/checkout.mjs signs up one customer per
# buyer, then each loops cart create -> add item -> POST /orders for
# $DURATION, $RUNS times. The row's req/s is confirmed orders per second and
# its p50/p99 those of the whole three-step flow; the note carries p95 and
# each step's p50/p95/p99. The bar (>= 500 orders/s, flow p99 < 250 ms) is
# for 64 buyers.
checkout_rows() {
  local topo="$1" buyers
  for buyers in 16 64; do checkout_row "$topo" "$buyers"; done
}

checkout_row() {
  local topo="$1" buyers="$2" name="checkout ($2 buyers)"
  local idx=${#R_NAME[@]} min_rps="" max_p99=""
  if ((buyers == 64)); then min_rps=500; max_p99=250; fi
  R_NAME+=("$name"); R_TOPO+=("$topo"); R_URL+=("http://127.0.0.1:$BASE/api/v1/orders")
  R_BASELINE+=(""); R_MIN_RPS+=("$min_rps"); R_MAX_P99+=("$max_p99")
  R_RPS+=(""); R_P50+=(""); R_P99+=(""); R_ERRORS+=(0); R_RUNS+=("[]"); R_NOTE+=("")
  command -v node >/dev/null || { R_NOTE[idx]="node is missing"; return 0; }
  say "$topo: $name"
  local out
  if ! out="$(node "$ROOT/bench/checkout.mjs" --base "http://127.0.0.1:$BASE" \
               --buyers "$buyers" --duration "$DURATION" --warmup "$WARMUP" \
               --runs "$RUNS" 2>&1)"; then
    say "$topo: $name: driver failed: $(tail -n 3 <<<"$out")"
    R_NOTE[idx]="driver failed"
    return 0
  fi
  local line rps=() p50=() p95=() p99=() errors=0 runs_json="" run=0 steps=""
  while read -r line; do
    [[ "$line" == CHECKOUT_RESULT* ]] || continue
    run=$((run + 1))
    local r q50 q95 q99 e
    r="$(field "$line" orders_per_s)"; q50="$(field "$line" flow_p50_ms)"
    q95="$(field "$line" flow_p95_ms)"; q99="$(field "$line" flow_p99_ms)"
    e="$(field "$line" errors)"
    rps+=("$r"); p50+=("$q50"); p95+=("$q95"); p99+=("$q99"); errors=$((errors + e))
    runs_json+="${runs_json:+, }{\"rps\": $r, \"p50_ms\": $q50, \"p95_ms\": $q95, \"p99_ms\": $q99, \"errors\": $e}"
    steps="$(for s in cart item checkout; do
      printf '%s %s/%s/%s ' "$s" "$(field "$line" "${s}_p50_ms")" \
        "$(field "$line" "${s}_p95_ms")" "$(field "$line" "${s}_p99_ms")"; done)"
    say "$topo: $name: run $run/$RUNS: $r orders/s, flow p50 $q50 ms, p95 $q95 ms, p99 $q99 ms; p50/p95/p99 ms per step: $steps$( ((e == 0)) || echo "; errors $e")"
  done <<<"$out"
  ((run > 0)) || { R_NOTE[idx]="no result"; say "$out"; return 0; }
  R_RPS[idx]="$(median "${rps[@]}")"
  R_P50[idx]="$(median "${p50[@]}")"
  R_P99[idx]="$(median "${p99[@]}")"
  R_ERRORS[idx]="$errors"
  R_RUNS[idx]="[$runs_json]"
  R_NOTE[idx]="orders/s; flow p95 $(median "${p95[@]}") ms; last run $steps"
  ((errors == 0)) || R_NOTE[idx]+="; $errors non-201"
}

# The live stream's delivery lag (docs/notifications.md): bench/
# notification-lag.mjs opens one buyer's GET /api/v1/notifications/stream
# through the gateway, places 50 orders one after another and measures, per
# order, from the 201 of POST /orders to the arrival of its in-app
# notification on the stream. p50/p99 are the lag; bar p99 < 1 s. No req/s.
notification_rows() {
  local topo="$1" name="notification lag (order -> SSE)"
  local idx=${#R_NAME[@]}
  R_NAME+=("$name"); R_TOPO+=("$topo")
  R_URL+=("http://127.0.0.1:$BASE/api/v1/notifications/stream")
  R_BASELINE+=(""); R_MIN_RPS+=(""); R_MAX_P99+=(1000)
  R_RPS+=(""); R_P50+=(""); R_P99+=(""); R_ERRORS+=(0); R_RUNS+=("[]"); R_NOTE+=("")
  command -v node >/dev/null || { R_NOTE[idx]="node is missing"; return 0; }
  say "$topo: $name"
  local out
  if ! out="$(node "$ROOT/bench/notification-lag.mjs" --base "http://127.0.0.1:$BASE" \
               --orders 50 --runs "$RUNS" 2>&1)"; then
    say "$topo: $name: driver failed: $(tail -n 3 <<<"$out")"
    R_NOTE[idx]="driver failed"
    return 0
  fi
  local line p50=() p99=() errors=0 runs_json="" run=0
  while read -r line; do
    [[ "$line" == NOTIFY_RESULT* ]] || continue
    run=$((run + 1))
    local q50 q99 e
    q50="$(field "$line" lag_p50_ms)"; q99="$(field "$line" lag_p99_ms)"
    e="$(field "$line" errors)"
    p50+=("$q50"); p99+=("$q99"); errors=$((errors + e))
    runs_json+="${runs_json:+, }{\"rps\": null, \"p50_ms\": $q50, \"p99_ms\": $q99, \"errors\": $e}"
    say "$topo: $name: run $run/$RUNS: lag p50 $q50 ms, p99 $q99 ms, max $(field "$line" lag_max_ms) ms$( ((e == 0)) || echo "; errors $e")"
  done <<<"$out"
  ((run > 0)) || { R_NOTE[idx]="no result"; say "$out"; return 0; }
  R_P50[idx]="$(median "${p50[@]}")"
  R_P99[idx]="$(median "${p99[@]}")"
  R_ERRORS[idx]="$errors"
  R_RUNS[idx]="[$runs_json]"
  R_NOTE[idx]="lag from POST /orders 201 to the SSE frame, 50 orders per run"
  ((errors == 0)) || R_NOTE[idx]+="; $errors orders without a frame in 10 s"
}

# --- nginx: the machine's ceiling -----------------------------------------------
NGINX_DIR="$WORK/nginx"
NGINX_PORT=$((BASE + 90))
NGINX_PID=""

start_nginx() {
  command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || die "nginx is missing (nginx-light)"
  local nginx; nginx="$(command -v nginx || echo /usr/sbin/nginx)"
  mkdir -p "$NGINX_DIR/www" "$NGINX_DIR/tmp"
  chmod 755 "$NGINX_DIR" "$NGINX_DIR/www"
  # A 1536-byte JSON document, about a product's size.
  local head='{"id":"5f0c8a2e-8d1b-4c4e-9a57-3b1f2d6e7a90","sku":"SS-000123","name":"Static ceiling","price":{"amount":1999,"currency":"EUR"},"description":"'
  local tail='"}'
  local pad=$((1536 - ${#head} - ${#tail}))
  { printf '%s' "$head"; printf '%*s' "$pad" '' | tr ' ' 'x'; printf '%s' "$tail"; } \
    >"$NGINX_DIR/www/static.json"
  chmod 644 "$NGINX_DIR/www/static.json"
  local user_line=""
  [[ $(id -u) -eq 0 ]] && user_line="user www-data;"
  cat >"$NGINX_DIR/nginx.conf" <<EOF
# Written by scripts/bench.sh: a static-file server to measure the ceiling.
$user_line
worker_processes 2;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_body_temp_path $NGINX_DIR/tmp/body;
  proxy_temp_path $NGINX_DIR/tmp/proxy;
  fastcgi_temp_path $NGINX_DIR/tmp/fastcgi;
  uwsgi_temp_path $NGINX_DIR/tmp/uwsgi;
  scgi_temp_path $NGINX_DIR/tmp/scgi;
  types { application/json json; }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $NGINX_DIR/www;
  }
}
EOF
  if (exec 3<>"/dev/tcp/127.0.0.1/$NGINX_PORT") 2>/dev/null; then
    die "port $NGINX_PORT (nginx) is in use"
  fi
  "$nginx" -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" -e "$NGINX_DIR/error.log" </dev/null
  local i
  for ((i = 0; i < 50; i++)); do
    NGINX_PID="$(cat "$NGINX_DIR/nginx.pid" 2>/dev/null || true)"
    [[ -n "$NGINX_PID" ]] && break
    sleep 0.1
  done
  [[ -n "$NGINX_PID" ]] || { tail -n 20 "$NGINX_DIR/error.log" >&2 || true; die "nginx did not start"; }
}

stop_nginx() {
  [[ -n "$NGINX_PID" ]] || return 0
  kill -QUIT "$NGINX_PID" 2>/dev/null || true
  wait_gone "$NGINX_PID" 10 || kill -KILL "$NGINX_PID" 2>/dev/null || true
  NGINX_PID=""
}

# --- the platform ----------------------------------------------------------------
PLATFORM_PID=""

wait_gone() { # PID SECONDS
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.1
  done
  return 1
}

# start_platform TOPOLOGY: serve --services=all, or up; in its own session.
start_platform() {
  local topo="$1" log="$WORK/platform-$1.log"
  if (exec 3<>"/dev/tcp/127.0.0.1/$BASE") 2>/dev/null; then
    die "port $BASE is in use: another platform on the bench ports?"
  fi
  case "$topo" in
    one-process) setsid "$BIN" serve --services=all </dev/null >"$log" 2>&1 & ;;
    per-service) setsid "$BIN" up </dev/null >"$log" 2>&1 & ;;
  esac
  PLATFORM_PID=$!
  say "$topo: started (pid $PLATFORM_PID, log $log)"
  local code
  if ! code="$(wait_2xx "http://127.0.0.1:$BASE/healthz" 60)"; then
    tail -n 40 "$log" >&2 || true
    die "$topo: the gateway did not answer /healthz within 60 s (last: ${code:-none})"
  fi
}

# platform_rss: resident memory of every process of the platform, in MiB.
platform_rss() {
  [[ -n "$PLATFORM_PID" ]] || return 0
  ps -o rss= -s "$PLATFORM_PID" 2>/dev/null | awk '{ s += $1 } END { printf "%.0f", s / 1024 }'
}

stop_platform() {
  [[ -n "$PLATFORM_PID" ]] || return 0
  kill -TERM "$PLATFORM_PID" 2>/dev/null || true
  if ! wait_gone "$PLATFORM_PID" 30; then
    kill -KILL -- "-$PLATFORM_PID" 2>/dev/null || true
  fi
  wait "$PLATFORM_PID" 2>/dev/null || true
  PLATFORM_PID=""
}

# --- report ------------------------------------------------------------------------
# row_index NAME TOPOLOGY: index of that row, or nothing.
row_index() {
  local i
  for i in "${!R_NAME[@]}"; do
    if [[ "${R_NAME[i]}" == "$1" && "${R_TOPO[i]}" == "$2" ]]; then echo "$i"; return; fi
  done
}

ratio() { # A B: A/B with two decimals, or "-"
  if [[ -n "$1" && -n "$2" ]]; then awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'
  else echo "-"; fi
}

bar_verdict() { # INDEX
  local i="$1" v=""
  # A latency-only row (notification lag) has p99 but no req/s.
  [[ -n "${R_RPS[i]}" || -n "${R_P99[i]}" ]] || { echo "-"; return; }
  if [[ -n "${R_MIN_RPS[i]}" ]]; then
    v="$(awk -v a="${R_RPS[i]}" -v b="${R_MIN_RPS[i]}" 'BEGIN { print (a >= b) ? "ok" : "MISS" }')"
  fi
  if [[ -n "${R_MAX_P99[i]}" ]]; then
    local w
    w="$(awk -v a="${R_P99[i]}" -v b="${R_MAX_P99[i]}" 'BEGIN { print (a < b) ? "ok" : "MISS" }')"
    [[ "$v" == MISS || "$w" == MISS ]] && v=MISS || v=ok
  fi
  echo "${v:--}"
}

print_table() {
  echo
  printf '%-28s %-12s %10s %8s %8s %9s %11s %5s  %s\n' \
    workload topology "req/s" "p50 ms" "p99 ms" "x nginx" "gw/direct" bar note
  printf '%s\n' "$(printf '%.0s-' {1..110})"
  local i b base_i
  for i in "${!R_NAME[@]}"; do
    b="-"
    if [[ -n "${R_BASELINE[i]}" ]]; then
      base_i="$(row_index "${R_BASELINE[i]}" "${R_TOPO[i]}")"
      [[ -n "$base_i" ]] && b="$(ratio "${R_RPS[i]}" "${R_RPS[base_i]}")"
    fi
    printf '%-28s %-12s %10s %8s %8s %9s %11s %5s  %s\n' \
      "${R_NAME[i]}" "${R_TOPO[i]}" \
      "$( [[ -n "${R_RPS[i]}" ]] && printf '%.0f' "${R_RPS[i]}" || echo -)" \
      "${R_P50[i]:--}" "${R_P99[i]:--}" \
      "$(ratio "${R_RPS[i]}" "$NGINX_RPS")" "$b" "$(bar_verdict "$i")" "${R_NOTE[i]}"
  done
  echo
  echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION, median of $RUNS runs; x nginx = req/s"
  echo "relative to nginx serving a 1.5 KB static file on the same machine."
}

json_str() { # a JSON string literal
  local s="$1"
  s="${s//\\/\\\\}"; s="${s//\"/\\\"}"
  printf '"%s"' "$s"
}
json_num() { if [[ -n "$1" ]]; then printf '%s' "$1"; else printf 'null'; fi; }

write_json() {
  local i b base_i sep=""
  {
    echo "["
    for i in "${!R_NAME[@]}"; do
      b=""
      if [[ -n "${R_BASELINE[i]}" ]]; then
        base_i="$(row_index "${R_BASELINE[i]}" "${R_TOPO[i]}")"
        [[ -n "$base_i" ]] && b="$(ratio "${R_RPS[i]}" "${R_RPS[base_i]}")"
        [[ "$b" == "-" ]] && b=""
      fi
      local rn; rn="$(ratio "${R_RPS[i]}" "$NGINX_RPS")"; [[ "$rn" == "-" ]] && rn=""
      printf '%s  {"workload": %s, "topology": %s, "url": %s,\n' "$sep" \
        "$(json_str "${R_NAME[i]}")" "$(json_str "${R_TOPO[i]}")" "$(json_str "${R_URL[i]}")"
      printf '   "rps_median": %s, "p50_ms": %s, "p99_ms": %s, "errors": %s,\n' \
        "$(json_num "${R_RPS[i]}")" "$(json_num "${R_P50[i]}")" "$(json_num "${R_P99[i]}")" "${R_ERRORS[i]}"
      printf '   "ratio_to_nginx": %s, "baseline": %s, "ratio_to_baseline": %s,\n' \
        "$(json_num "$rn")" \
        "$( [[ -n "${R_BASELINE[i]}" ]] && json_str "${R_BASELINE[i]}" || echo null)" "$(json_num "$b")"
      printf '   "note": %s, "runs": %s}' "$(json_str "${R_NOTE[i]}")" "${R_RUNS[i]}"
      sep=$',\n'
    done
    printf '\n]\n'
  } >"$RESULTS.tmp"
  mv -f "$RESULTS.tmp" "$RESULTS"
  say "wrote ${RESULTS#"$ROOT"/}"
}

# --- run -------------------------------------------------------------------------------
INFRA_STARTED=0
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_platform
  stop_nginx
  if ((INFRA_STARTED && !KEEP_INFRA)); then
    scripts/infra.sh stop all --profile "$BENCH_PROFILE" || true
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'echo "[bench] interrupted" >&2; exit 130' INT TERM

say "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
if ! scripts/infra.sh status all --profile "$BENCH_PROFILE" >/dev/null 2>&1; then
  INFRA_STARTED=1
fi
scripts/infra.sh start all --profile "$BENCH_PROFILE"
say "applying migrations"
"$BIN" migrate
say "seeding the demo catalog (skipped when products exist)"
"$BIN" seed --products 1000 --if-empty

start_nginx
bench_row "static 1.5 KB JSON" nginx "http://127.0.0.1:$NGINX_PORT/static.json"
stop_nginx
NGINX_RPS="${R_RPS[0]}"

for topo in one-process per-service; do
  [[ -z "$ONLY" || "$ONLY" == "$topo" || "$ONLY" == search ||
     ( "$ONLY" == loadtest && "$topo" == per-service ) ]] || continue
  [[ -z "$TOPOLOGY" || "$TOPOLOGY" == "$topo" ]] || continue
  start_platform "$topo"
  if [[ "$ONLY" == loadtest ]]; then
    cart_rows "$topo"
    loadtest_row "$topo"
  elif [[ "$ONLY" == search ]]; then
    search_rows "$topo"
    recommendation_rows "$topo"
  else
    bench_rows "$topo"
  fi
  say "$topo: platform RSS after load: $(platform_rss) MiB"
  stop_platform
done

[[ -z "$ONLY" || "$ONLY" == events ]] && events_rows
[[ -z "$ONLY" || "$ONLY" == search-100k ]] && search_100k_rows
print_table
write_json
