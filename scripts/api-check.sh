#!/usr/bin/env bash
# The API documents' own checks (no servers needed; a few seconds):
#   1. Redocly CLI lints api/openapi.yaml, api/sandbox.yaml and
#      api/sandbox-mail.yaml with its
#      recommended rules plus ours (redocly.yaml): no error, no warning.
#   2. Every object schema says whether it is closed
#      (tests/contract/check-document.mjs).
#   3. The web apps' TypeScript types (web/api/*.d.ts) are what
#      openapi-typescript makes of the documents today.
#   4. The contract check's own tests (tests/contract/*.test.mjs): crafted
#      answers with an undocumented field, a wrong type, an undocumented
#      status... are refused.
# The system tests then check every exchange against the documents
# (tests/system/lib.mjs). docs/api.md tells how an API change goes.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"

usage() {
  cat <<'USAGE'
usage: scripts/api-check.sh [--fix-types]

Lints the API documents (Redocly CLI), checks that every object schema is
closed, that web/api/*.d.ts match the documents, and runs the contract
check's own tests (node --test tests/contract/).

  --fix-types   regenerate web/api/*.d.ts instead of failing when they differ
USAGE
}

FIX_TYPES=0
while (($#)); do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --fix-types) FIX_TYPES=1; shift ;;
    *) echo "api-check: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

[[ -x node_modules/.bin/redocly && -x node_modules/.bin/openapi-typescript ]] || {
  echo "api-check: node_modules lacks the API tools: run scripts/web-deps.sh (make deps)" >&2
  exit 1
}
# Offline and quiet: no usage reports, no version check.
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
rc=0

echo "api-check: lint (Redocly CLI, redocly.yaml)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
lint_rc=0
node_modules/.bin/redocly lint --format=stylish --max-problems=200 >"$tmp/lint.log" 2>&1 || lint_rc=$?
grep -v -e '║' -e '╔' -e '╚' -e '^ *$' "$tmp/lint.log" || true
((lint_rc == 0)) || rc=1
# Warnings do not fail `redocly lint`: they fail us.
if grep -qE '^ +[0-9]+:[0-9]+ +warning' "$tmp/lint.log"; then
  echo "api-check: the linter has warnings (above)" >&2
  rc=1
fi

echo "api-check: every object schema is closed or says it is open"
node tests/contract/check-document.mjs || rc=1

echo "api-check: web/api types match the documents (openapi-typescript)"
cp -r web/api "$tmp/before"
node_modules/.bin/openapi-typescript >/dev/null 2>"$tmp/gen.log" || { cat "$tmp/gen.log" >&2; rc=1; }
if ! diff -r -q "$tmp/before" web/api >/dev/null; then
  if ((FIX_TYPES)); then
    echo "api-check: web/api regenerated; commit it with the document"
  else
    diff -r -u "$tmp/before" web/api | head -n 40 >&2 || true
    rm -rf web/api && cp -r "$tmp/before" web/api
    echo "api-check: web/api/*.d.ts differ from the documents: run scripts/api-check.sh --fix-types and commit" >&2
    rc=1
  fi
fi

echo "api-check: the contract check's own tests"
node --test tests/contract/ || rc=1

if ((rc == 0)); then echo "api-check: passed"; else echo "api-check: FAILED" >&2; fi
exit "$rc"
