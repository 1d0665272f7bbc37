#!/usr/bin/env bash
# The last steps of `make run` (which has already installed packages and
# built build/release): start the dev servers, migrate, seed a demo catalog
# once, print where to look, then become `shopsphere up` in the foreground.
# Ctrl-C stops the platform; the servers keep running (`make stop`).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"

if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  cat <<'EOF'
usage: scripts/run.sh
Starts PostgreSQL, Redis and RabbitMQ of the dev profile (var/dev), applies
migrations, seeds 1000 demo products when the catalog is empty, and runs
build/release/shopsphere up in the foreground. Run `make build` first (make
run does). Environment: SHOPSPHERE_BIN (default build/release/shopsphere),
SHOPSPHERE_SEED_PRODUCTS (default 1000), and everything of scripts/profile.sh.
EOF
  exit 0
fi

# shellcheck source=scripts/profile.sh
. scripts/profile.sh dev
BIN="${SHOPSPHERE_BIN:-build/release/shopsphere}"
BASE="$SHOPSPHERE_PORT_BASE"

[[ -x "$BIN" ]] || { echo "run: $BIN is missing: run 'make build' first" >&2; exit 1; }

# One platform per port base: a second `make run` would fail to bind anyway.
if (exec 3<>"/dev/tcp/127.0.0.1/$BASE") 2>/dev/null; then
  echo "run: port $BASE is in use: is ShopSphere (make run) already running?" >&2
  echo "     storefront: http://localhost:$BASE/" >&2
  exit 1
fi

scripts/infra.sh start all --profile dev

echo "run: applying migrations"
"$BIN" migrate

# The seed command arrives later: use it once it exists.
if "$BIN" seed --help >/dev/null 2>&1; then
  echo "run: seeding the demo catalog (skipped when products exist)"
  "$BIN" seed --products "${SHOPSPHERE_SEED_PRODUCTS:-1000}" --if-empty
fi

cat <<EOF

  ShopSphere is starting (dev profile, data in var/dev):

    storefront   http://localhost:$BASE/
    admin        http://localhost:$BASE/admin/
    API docs     http://localhost:$BASE${SHOPSPHERE_API_DOCS_PATH:-/docs}
    API base     http://localhost:$BASE/api/v1/
    mail inbox   http://localhost:$((BASE + 17))/   (every e-mail sent: welcome,
                 password reset, orders; the sandbox mail server)

    demo admin   $SHOPSPHERE_ADMIN_EMAIL
    password     $SHOPSPHERE_ADMIN_PASSWORD
                 (generated for this checkout; kept in var/dev/secrets.env)

  Ctrl-C stops the platform; PostgreSQL, Redis and RabbitMQ keep running
  ('make stop' stops them, 'make status' shows them).

EOF

exec "$BIN" up
