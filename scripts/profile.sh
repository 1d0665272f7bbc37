# shellcheck shell=bash
# Environment of one local profile: ports, URLs and secrets for the
# PostgreSQL, Redis and RabbitMQ that scripts/infra.sh runs under var/<profile>.
#
#   . scripts/profile.sh dev     # what `make run` uses
#   . scripts/profile.sh test    # what `make test` uses (other ports, other data)
#   . scripts/profile.sh bench   # what `make bench` uses
#
# Variables you set yourself before sourcing are kept (e.g. a different
# SHOPSPHERE_PG_PORT). Values this file filled in on an earlier sourcing are
# replaced, so `. profile.sh dev; . profile.sh test` gives a clean test profile
# and never points the test suite at the dev databases.
#
# Passwords are random, made once per profile, and kept in
# var/<profile>/secrets.env (mode 600) so that they are stable across runs.
#
# Bash only. Sourced into other shells: it must not turn on `set -e` or
# leave helper variables behind, and everything it runs must not fail under a
# caller's `set -euo pipefail`.

_ss_profile_main() {
  local profile="${1:-${SHOPSPHERE_PROFILE:-dev}}"
  local pg redis amqp dist base
  case "$profile" in
    dev)   pg=54320 redis=63790 amqp=56720 dist=25720 base=8080 ;;
    test)  pg=54321 redis=63791 amqp=56721 dist=25721 base=18080 ;;
    bench) pg=54322 redis=63792 amqp=56722 dist=25722 base=28080 ;;
    # w1..w8: private test platforms, so several people (or agents) can run
    # the suites side by side: SHOPSPHERE_TEST_PROFILE=w3 make test.
    w[1-8])
      local n="${profile#w}"
      pg=$((54330 + n)) redis=$((63800 + n)) amqp=$((56730 + n))
      dist=$((25730 + n)) base=$((18100 + 20 * n)) ;;
    *)
      echo "profile.sh: unknown profile '$profile' (use dev, test, bench or w1..w8)" >&2
      return 2 ;;
  esac

  # Where the repository is: this file lives in <root>/scripts.
  local here root
  here="${BASH_SOURCE[0]:-}"
  if [[ -n "$here" ]]; then
    root="$(cd "$(dirname "$here")/.." && pwd -P)"
  else
    root="${SHOPSPHERE_ROOT:-$PWD}"
  fi

  # Forget what an earlier sourcing of this file filled in (not what the user
  # set): those names are listed in _SHOPSPHERE_PROFILE_DEFAULTED.
  # The list is exported, so a script started from a shell that sourced
  # another profile also knows which values were only defaults.
  local name
  for name in ${_SHOPSPHERE_PROFILE_DEFAULTED:-}; do
    unset "$name"
  done
  export _SHOPSPHERE_PROFILE_DEFAULTED=""

  # The profile named on the command line wins over an inherited one.
  export SHOPSPHERE_PROFILE="$profile"
  # Not a setting but a fact: where this checkout is (tests call its scripts).
  export SHOPSPHERE_ROOT="$root"

  _ss_default SHOPSPHERE_VAR_DIR "$root/var/$profile"
  _ss_default SHOPSPHERE_PG_PORT "$pg"
  _ss_default SHOPSPHERE_REDIS_PORT "$redis"
  _ss_default SHOPSPHERE_AMQP_PORT "$amqp"
  _ss_default SHOPSPHERE_AMQP_DIST_PORT "$dist"
  _ss_default SHOPSPHERE_PORT_BASE "$base"

  # Secrets: read var/<profile>/secrets.env, add what is missing.
  _ss_secrets "$SHOPSPHERE_VAR_DIR" || return 1

  local host=127.0.0.1
  _ss_default SHOPSPHERE_DATABASE_URL \
    "postgresql://shopsphere:${SHOPSPHERE_PG_PASSWORD}@${host}:${SHOPSPHERE_PG_PORT}/shopsphere"
  _ss_default SHOPSPHERE_REDIS_URL "redis://${host}:${SHOPSPHERE_REDIS_PORT}"
  _ss_default SHOPSPHERE_AMQP_URL \
    "amqp://shopsphere:${SHOPSPHERE_AMQP_PASSWORD}@${host}:${SHOPSPHERE_AMQP_PORT}/"
  # E-mail goes to this profile's sandbox mail server (SMTP on base + 18).
  _ss_default SHOPSPHERE_SMTP_URL "smtp://${host}:$((SHOPSPHERE_PORT_BASE + 18))"
  # Tests wait for idle connections to be dropped; keep that wait short.
  if [[ "$profile" == test || "$profile" == w[1-8] ]]; then
    _ss_default SHOPSPHERE_CONNECTION_TIMEOUT 5
    # Every suite calls the gateway from 127.0.0.1: a budget no suite can
    # exhaust, except the docs class, whose small one the gateway's
    # rate-limit test uses up from addresses of its own (docs/gateway.md).
    _ss_default SHOPSPHERE_RATE_LIMIT_PER_MINUTE 1000000
    # Every suite logs in from 127.0.0.1, failing now and then (the identity
    # suite locks an account on purpose): a per-address budget none of them
    # reaches in 15 minutes, which the security suite exhausts from a
    # loopback address of its own.
    _ss_default SHOPSPHERE_LOGIN_MAX_IP_FAILURES 200
    # A connection bound the security suite can reach (it opens more).
    _ss_default SHOPSPHERE_MAX_CONNECTIONS 256
    _ss_default SHOPSPHERE_RATE_LIMITS "docs=20"
    # An open breaker retries after 2 s, so a test sees it close again.
    _ss_default SHOPSPHERE_BREAKER_SLEEP_MS 2000
    # Spans go to the tracing test's OTLP receiver (tests/system/
    # tracing.test.mjs); while it is not listening they are counted as
    # failed exports and dropped, never blocking a request.
    _ss_default SHOPSPHERE_OTLP_ENDPOINT "http://127.0.0.1:$((SHOPSPHERE_PORT_BASE + 19))"
  fi
  # The web pages of this profile are served from its own gateway port.
  _ss_default SHOPSPHERE_CORS_ORIGINS \
    "http://localhost:${SHOPSPHERE_PORT_BASE},http://127.0.0.1:${SHOPSPHERE_PORT_BASE}"
  return 0
}

# _ss_default NAME VALUE: export NAME=VALUE unless NAME is already set.
_ss_default() {
  if [[ -z "${!1+x}" ]]; then
    export "$1=$2"
    _SHOPSPHERE_PROFILE_DEFAULTED="${_SHOPSPHERE_PROFILE_DEFAULTED} $1"
  else
    export "${1?}"
  fi
}

# _ss_random N: N random bytes as 2N hex digits (URL-safe, no quoting needed).
# No `tr | head` pipeline here: that ends in SIGPIPE, which a caller running
# with pipefail would take for a failure.
_ss_random() {
  od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'
}

# _ss_secrets DIR: make sure DIR/secrets.env holds every generated secret of
# the profile, then export each one (unless the user set it already).
_ss_secrets() {
  local dir="$1" file="$1/secrets.env" key value missing=""
  mkdir -p "$dir" || return 1
  local -A have=()
  if [[ -r "$file" ]]; then
    while IFS='=' read -r key value; do
      [[ "$key" =~ ^[A-Z_][A-Z0-9_]*$ ]] && have[$key]="$value"
    done <"$file"
  elif [[ -e "$file" ]]; then
    echo "profile.sh: cannot read $file (made by another user?)" >&2
    return 1
  fi
  # Service passwords are long; the demo admin's is one a person can type.
  local -A bytes=([SHOPSPHERE_PG_PASSWORD]=24 [SHOPSPHERE_AMQP_PASSWORD]=24
                  [SHOPSPHERE_ADMIN_PASSWORD]=10
                  [SHOPSPHERE_INTERNAL_SECRET]=24
                  [SHOPSPHERE_KEK]=32
                  [SHOPSPHERE_COURIER_WEBHOOK_SECRET]=24
                  [SHOPSPHERE_PAYMENT_WEBHOOK_SECRET]=24)
  for key in "${!bytes[@]}"; do
    if [[ -z "${have[$key]:-}" ]]; then
      have[$key]="$(_ss_random "${bytes[$key]}")"
      missing="$missing $key"
    fi
  done
  if [[ -n "$missing" ]]; then
    # Write a new file (mode 600 from the start) and move it into place, so a
    # reader never sees half a file.
    local tmp="$file.tmp.$$"
    (
      umask 077
      {
        echo "# Generated by scripts/profile.sh: secrets of this local profile."
        echo "# Delete this file (and var/$(basename "$dir")) to start afresh."
        for key in "${!have[@]}"; do echo "$key=${have[$key]}"; done | sort
      } >"$tmp"
    ) && mv -f "$tmp" "$file" || return 1
  fi
  chmod 600 "$file" 2>/dev/null || true
  for key in "${!have[@]}"; do _ss_default "$key" "${have[$key]}"; done
  # The demo admin's e-mail is not a secret, but belongs with its password.
  _ss_default SHOPSPHERE_ADMIN_EMAIL "admin@shopsphere.local"
}

_ss_profile_main "$@"
_ss_status=$?
unset -f _ss_profile_main _ss_random _ss_secrets
unset -f _ss_default
if [[ $_ss_status -ne 0 ]]; then
  unset _ss_status
  return 1
fi
unset _ss_status
