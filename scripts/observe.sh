#!/usr/bin/env bash
# shellcheck disable=SC2016  # the node -e programs are JavaScript in single quotes
# `make observe`: Debian's Prometheus against a running platform (the `make
# run` one, dev profile, unless told otherwise), scraping every service's
# /metrics with the SLO recording and alerting rules of
# deploy/observability/prometheus. Prints where to look.
#
#   make observe                                  # dev profile (make run)
#   SHOPSPHERE_PROFILE=w4 make observe            # another profile's platform
#   scripts/observe.sh --check --profile test     # start, verify, stop
#
# The scrape targets are the service ports the platform's own binary reports
# (`shopsphere config`), so a moved port base or a per-service port override
# is followed. Prometheus runs from var/<profile>/prometheus (its copy of the
# configuration, a file_sd target list, the data); the committed
# deploy/observability/prometheus/prometheus.yml is the configuration used.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"

usage() {
  cat <<'EOF'
usage: scripts/observe.sh [--check] [--profile NAME]
Runs Prometheus (foreground) scraping the platform of profile NAME (default
$SHOPSPHERE_PROFILE, else dev: the `make run` one) with the SLO rules, and
prints where to look; Ctrl-C stops it.
  --check   start it on a fresh data directory, wait until every service
            target is up, every rule of rules.yml is loaded, and the rules
            have been evaluated without error on the scraped metrics; print
            that, stop, and exit 0 (1 when something is missing, saying what).
Environment: SHOPSPHERE_PROMETHEUS_PORT (default: dev 9190, test 9191,
bench 9192, wN 9200+N; not 9090, where Debian's own prometheus service
listens), SHOPSPHERE_BIN (the binary whose `config` names the ports; default
build/release/shopsphere, else build/asan/shopsphere), OBSERVE_TIMEOUT
(seconds --check waits, default 180).
EOF
}

CHECK=0
profile="${SHOPSPHERE_PROFILE:-dev}"
while (($#)); do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --check) CHECK=1 ;;
    --profile) profile="${2:?--profile needs a name}"; shift ;;
    --profile=*) profile="${1#--profile=}" ;;
    *) echo "observe: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

# shellcheck source=scripts/profile.sh
. scripts/profile.sh "$profile"

command -v prometheus >/dev/null || { echo "observe: prometheus is missing (scripts/install-deps.sh)" >&2; exit 1; }

case "$profile" in
  dev) default_port=9190 ;;
  test) default_port=9191 ;;
  bench) default_port=9192 ;;
  w*) default_port=$((9200 + ${profile#w})) ;;
esac
port="${SHOPSPHERE_PROMETHEUS_PORT:-$default_port}"

BIN="${SHOPSPHERE_BIN:-}"
if [[ -z "$BIN" ]]; then
  for b in build/release/shopsphere build/asan/shopsphere; do
    if [[ -x "$b" ]]; then BIN="$b"; break; fi
  done
fi
[[ -n "$BIN" && -x "$BIN" ]] || { echo "observe: no shopsphere binary (make build, or set SHOPSPHERE_BIN)" >&2; exit 1; }

# The services (not the sandboxes) and their ports, as the binary sees them:
# a service is a name with both SHOPSPHERE_<NAME>_PORT and an http(s)
# SHOPSPHERE_<NAME>_URL (SMTP has a _PORT and an smtp:// _URL).
mapfile -t services < <("$BIN" config | awk -F= '
  $1 ~ /^SHOPSPHERE_[A-Z_]+_PORT$/ { n = substr($1, 12, length($1) - 16); port[n] = $2 }
  $1 ~ /^SHOPSPHERE_[A-Z_]+_URL$/ && $2 ~ /^https?:\/\// { n = substr($1, 12, length($1) - 15); url[n] = 1 }
  END { for (n in port) if ((n in url) && n !~ /^SANDBOX_/) print tolower(n) " " port[n] }' | sort -k2n)
((${#services[@]} > 0)) || { echo "observe: '$BIN config' names no service ports" >&2; exit 1; }
gateway_port="$(awk '$1 == "gateway" { print $2 }' <<<"$(printf '%s\n' "${services[@]}")")"

if ! curl -fsS --max-time 5 "http://127.0.0.1:${gateway_port}/healthz" >/dev/null; then
  echo "observe: the $profile platform does not answer on :${gateway_port}; start it first ('make run' for dev)" >&2
  exit 1
fi
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  echo "observe: port $port is in use (another Prometheus?); set SHOPSPHERE_PROMETHEUS_PORT" >&2
  exit 1
fi

# Prometheus's directory: the committed configuration and rules, and the
# target list (file_sd: one target per service, labelled with its name).
run="$SHOPSPHERE_VAR_DIR/prometheus"
mkdir -p "$run"
src=deploy/observability/prometheus
cp "$src/prometheus.yml" "$src/rules.yml" "$run/"
{
  echo "["
  sep=""
  for s in "${services[@]}"; do
    read -r name p <<<"$s"
    printf '%s  {"targets": ["127.0.0.1:%s"], "labels": {"app": "%s"}}' "$sep" "$p" "$name"
    sep=$',\n'
  done
  printf '\n]\n'
} >"$run/targets.json"

data="$run/data"
if ((CHECK)); then
  data="$(mktemp -d "$run/check.XXXXXX")"
fi
prometheus --config.file="$run/prometheus.yml" \
  --storage.tsdb.path="$data" --web.listen-address="127.0.0.1:$port" \
  --log.level="$( ((CHECK)) && echo error || echo warn)" &
pid=$!
cleanup() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if ((CHECK)); then rm -rf "$data"; fi
}
trap cleanup EXIT
# Ctrl-C is how the foreground Prometheus ends; in --check it is a failure.
if ((CHECK)); then trap 'exit 130' INT TERM; else trap 'exit 0' INT TERM; fi

api="http://127.0.0.1:$port/api/v1"
n="${#services[@]}"

# status: one line saying what Prometheus has (targets up, rules loaded and
# evaluated, recording rules with data); exit 0 when all of it is there.
status() {
  local targets rules series
  targets="$(curl -fs --max-time 5 "$api/targets?state=active")" || return 2
  rules="$(curl -fs --max-time 5 "$api/rules")" || return 2
  series="$(curl -fs --max-time 5 --get --data-urlencode 'query=count(service:http_requests:rate5m)' "$api/query")" || return 2
  TARGETS="$targets" RULES="$rules" SERIES="$series" WANT_RULES="$(grep -oE '^\s*- (alert|record): \S+' "$src/rules.yml" | awk '{ print $3 }')" \
    WANT_TARGETS="$n" node -e '
      const t = JSON.parse(process.env.TARGETS).data.activeTargets;
      const groups = JSON.parse(process.env.RULES).data.groups;
      const rules = groups.flatMap((g) => g.rules);
      const want = process.env.WANT_RULES.split("\n").filter(Boolean);
      const loaded = new Set(rules.map((r) => r.name));
      const missing = want.filter((w) => !loaded.has(w));
      const up = t.filter((x) => x.health === "up");
      const down = t.filter((x) => x.health !== "up").map((x) => `${x.labels.app} (${x.lastError || x.health})`);
      const evaluated = rules.filter((r) => r.lastEvaluation && !r.lastEvaluation.startsWith("0001"));
      const failing = rules.filter((r) => r.health === "err").map((r) => `${r.name}: ${r.lastError}`);
      const res = JSON.parse(process.env.SERIES).data.result;
      const withData = res.length ? Number(res[0].value[1]) : 0;
      const alerts = rules.filter((r) => r.type === "alerting");
      const firing = alerts.filter((r) => r.state === "firing").map((r) => r.name);
      console.log(`${up.length} of ${process.env.WANT_TARGETS} targets up` +
        (down.length ? ` (down: ${down.join(", ")})` : "") +
        `; ${want.length - missing.length} of ${want.length} rules loaded` +
        ` (${rules.length - alerts.length} recording, ${alerts.length} alerting, ${groups.length} groups)` +
        (missing.length ? ` (missing: ${missing.join(", ")})` : "") +
        `; ${evaluated.length} evaluated` + (failing.length ? ` (failing: ${failing.join("; ")})` : "") +
        `; service:http_requests:rate5m has ${withData} services` +
        `; firing: ${firing.length ? firing.join(", ") : "none"}`);
      const ok = up.length === Number(process.env.WANT_TARGETS) && t.length === up.length && missing.length === 0 &&
        rules.length === want.length && evaluated.length === rules.length && failing.length === 0 &&
        withData === Number(process.env.WANT_TARGETS);
      process.exit(ok ? 0 : 1);'
}

echo "observe: Prometheus on 127.0.0.1:$port scraping the $n services of the $profile platform ($run)"
last="Prometheus did not answer"
deadline=$((SECONDS + ${OBSERVE_TIMEOUT:-180}))
ok=0
while ((SECONDS < deadline)); do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "observe: prometheus exited" >&2
    exit 1
  fi
  if line="$(status)"; then ok=1; last="$line"; break; fi
  [[ -n "$line" ]] && last="$line"
  sleep 2
done
echo "observe: $last"
# The dashboards and rules read only metrics the running services declare.
metric_urls=()
for s in "${services[@]}"; do metric_urls+=("http://127.0.0.1:${s#* }/metrics"); done
node deploy/tools/live-metrics.mjs "${metric_urls[@]}" || ok=0
if ((CHECK)); then
  if ((ok)); then
    # What an operator sees: each target, and each rule with its state.
    curl -fsS "$api/targets?state=active" | node -e '
      let s = ""; process.stdin.on("data", (c) => (s += c)).on("end", () => {
        for (const t of JSON.parse(s).data.activeTargets.sort((a, b) => a.scrapeUrl.localeCompare(b.scrapeUrl)))
          console.log(`  target ${t.labels.app.padEnd(15)} ${t.scrapeUrl.padEnd(36)} ${t.health}`);
      });'
    curl -fsS "$api/rules" | node -e '
      let s = ""; process.stdin.on("data", (c) => (s += c)).on("end", () => {
        for (const g of JSON.parse(s).data.groups)
          for (const r of g.rules)
            console.log(`  ${g.name.padEnd(26)} ${r.type.padEnd(9)} ${r.name.padEnd(38)} ${r.health}${r.state ? " " + r.state : ""}`);
      });'
    echo "observe: check passed"
    exit 0
  fi
  echo "observe: check FAILED after ${OBSERVE_TIMEOUT:-180} s" >&2
  exit 1
fi
((ok)) || echo "observe: not everything is up yet; see the targets page" >&2
cat <<EOF
  targets: http://127.0.0.1:$port/targets
  rules:   http://127.0.0.1:$port/rules
  alerts:  http://127.0.0.1:$port/alerts
  try:     http://127.0.0.1:$port/graph?g0.expr=service%3Ahttp_requests%3Arate5m
  Grafana: import deploy/observability/grafana/*.json with this Prometheus as data source
  Ctrl-C stops Prometheus (data kept in $data).
EOF
wait "$pid"
