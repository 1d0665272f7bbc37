#!/usr/bin/env bash
# Builds the web apps (web/: the storefront and the admin dashboard) into
# web/dist, which the gateway serves, and checks the storefront's
# JavaScript budget (150 KB gzip for what the first page loads). Installs
# web/'s npm packages (npm ci, exactly as web/package-lock.json pins them)
# when node_modules is missing or older than the lock file. Does nothing
# when web/dist is newer than every source.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT/web"

if [[ "${1:-}" == "--help" || "${1:-}" == "-h" ]]; then
  echo "usage: scripts/web-build.sh [--force]"
  echo "npm ci (when needed) and vite build of web/ into web/dist; checks the"
  echo "storefront's initial JavaScript against its 150 KB gzip budget."
  exit 0
fi
FORCE=0
[[ "${1:-}" == "--force" ]] && FORCE=1

stamp=node_modules/.package-lock.json
if [[ ! -f "$stamp" || package-lock.json -nt "$stamp" ]]; then
  echo "web-build: npm ci in web/"
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
fi

if ((!FORCE)) && [[ -f dist/index.html ]] &&
   [[ -z "$(find src index.html admin/index.html graphiql/index.html vite.config.ts package-lock.json -newer dist/index.html -print -quit)" ]]; then
  echo "web-build: web/dist is up to date"
  exit 0
fi
echo "web-build: building the storefront and the admin dashboard"
npm run build --silent

# The budget: every script the storefront's index.html loads, gzipped.
total=0
for js in $(grep -o 'src="/assets/[^"]*\.js"\|href="/assets/[^"]*\.js"' dist/index.html | sed 's/.*="\/\(assets\/[^"]*\)"/\1/'); do
  size=$(gzip -c "dist/$js" | wc -c)
  total=$((total + size))
done
budget=$((150 * 1024))
echo "web-build: storefront initial JavaScript ${total} bytes gzip (budget ${budget})"
if ((total > budget)); then
  echo "web-build: over the budget" >&2
  exit 1
fi
