#!/usr/bin/env bash
# Installs the npm packages of package.json (Swagger UI, which the gateway
# serves at /docs, and the API contract tools of scripts/api-check.sh and
# the system tests: Redocly CLI, openapi-typescript, Ajv, yaml) into
# node_modules/, exactly as package-lock.json pins them.
# Idempotent: does nothing when node_modules matches the lock file already.
# Install scripts are not run (--ignore-scripts): the packages we serve are
# plain files, and one dependency's postinstall would only send analytics.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"

if [[ "${1:-}" == "--help" || "${1:-}" == "-h" ]]; then
  echo "usage: scripts/web-deps.sh"
  echo "Runs 'npm ci' for package.json / package-lock.json when node_modules"
  echo "is missing or older than the lock file."
  exit 0
fi

command -v npm >/dev/null || { echo "web-deps: npm is missing (scripts/install-deps.sh)" >&2; exit 1; }

# npm ci writes node_modules/.package-lock.json; newer than the lock file
# means the tree is what the lock file asks for.
stamp=node_modules/.package-lock.json
if [[ -f "$stamp" && "$stamp" -nt package-lock.json && -d node_modules/swagger-ui-dist &&
      -x node_modules/.bin/redocly && -x node_modules/.bin/openapi-typescript ]]; then
  echo "web-deps: node_modules is up to date"
  exit 0
fi
echo "web-deps: npm ci"
export SCARF_ANALYTICS=false
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
echo "web-deps: done"
