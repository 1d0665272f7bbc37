#!/usr/bin/env bash
# Offline checks of deploy/ (make test runs them; nothing here needs a
# cluster): the manifests against the Kubernetes, Istio, KEDA and Argo
# schemas and our policy (deploy/tools/validate.mjs), the Prometheus rules
# with promtool, and the checks' own tests on deliberately broken copies.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"

if [[ "${1:-}" == "--help" || "${1:-}" == "-h" ]]; then
  echo "usage: scripts/deploy-check.sh"
  echo "Validates deploy/: manifests (schemas + policy + generated = committed),"
  echo "Prometheus rules (promtool check + test), Grafana metric names, and"
  echo "proves each check fails on a broken copy. Installs deploy/tools' npm"
  echo "packages (npm ci) when missing."
  exit 0
fi

command -v promtool >/dev/null || { echo "deploy-check: promtool is missing (scripts/install-deps.sh installs prometheus)" >&2; exit 1; }

tools=deploy/tools
if [[ ! -f "$tools/node_modules/.package-lock.json" || "$tools/package-lock.json" -nt "$tools/node_modules/.package-lock.json" ]]; then
  echo "deploy-check: npm ci in $tools"
  (cd "$tools" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi

node "$tools/validate.mjs"
promtool check rules deploy/observability/prometheus/rules.yml
(cd deploy/observability/prometheus && promtool test rules rules.test.yml)
promtool check config deploy/observability/prometheus/prometheus.yml >/dev/null
node --test "$tools/"
echo "deploy-check: all checks passed"
