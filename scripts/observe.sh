#!/usr/bin/env bash
# `make observe`: Debian's Prometheus against the running `make run`
# platform (dev profile, ports 8080-8092), with the SLO recording and
# alerting rules of deploy/observability/prometheus. Data under
# var/dev/prometheus; the UI on 127.0.0.1:9090 (SHOPSPHERE_PROMETHEUS_PORT).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"

if [[ "${1:-}" == "--help" || "${1:-}" == "-h" ]]; then
  echo "usage: scripts/observe.sh [--check]"
  echo "Runs Prometheus (foreground) scraping the make-run platform with the"
  echo "SLO rules; prints where to look. --check: start it, wait until every"
  echo "target is up and the rules are loaded, print that, and stop."
  exit 0
fi
CHECK=0
[[ "${1:-}" == "--check" ]] && CHECK=1

command -v prometheus >/dev/null || { echo "observe: prometheus is missing (scripts/install-deps.sh)" >&2; exit 1; }
port="${SHOPSPHERE_PROMETHEUS_PORT:-9090}"
data="$ROOT/var/dev/prometheus"
mkdir -p "$data"
if ! curl -fsS --max-time 2 http://127.0.0.1:8080/healthz >/dev/null; then
  echo "observe: the platform does not answer on :8080; start it with 'make run' first" >&2
  exit 1
fi

prometheus --config.file=deploy/observability/prometheus/prometheus.yml \
  --storage.tsdb.path="$data" --web.listen-address="127.0.0.1:$port" \
  --log.level=warn &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true' EXIT INT TERM

api="http://127.0.0.1:$port/api/v1"
for _ in $(seq 1 60); do
  if targets="$(curl -fsS --max-time 2 "$api/targets" 2>/dev/null)" &&
     [[ "$(grep -o '"health":"up"' <<<"$targets" | wc -l)" -ge 13 ]]; then
    break
  fi
  sleep 1
done
up="$(curl -fsS "$api/targets" | grep -o '"health":"up"' | wc -l)"
rules="$(curl -fsS "$api/rules" | grep -o '"type":"\(alerting\|recording\)"' | wc -l)"
echo "observe: $up of 13 targets up, $rules rules loaded"
echo "  targets: http://127.0.0.1:$port/targets"
echo "  alerts:  http://127.0.0.1:$port/alerts"
echo "  try:     http://127.0.0.1:$port/graph?g0.expr=service%3Ahttp_requests%3Arate5m"
if ((CHECK)); then
  [[ "$up" -ge 13 && "$rules" -ge 17 ]]
  exit
fi
wait "$pid"
