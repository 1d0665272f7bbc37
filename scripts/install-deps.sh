#!/usr/bin/env bash
# Installs the Debian packages ShopSphere needs to build, test and run.
# Idempotent: only missing packages are installed; uses sudo when not root.
set -euo pipefail

if [[ "${1:-}" == "--help" || "${1:-}" == "-h" ]]; then
  echo "usage: scripts/install-deps.sh"
  echo "Installs compiler, CMake, C libraries, PostgreSQL, Redis, RabbitMQ,"
  echo "Node.js/npm, wrk and nginx (for benchmarks), Chromium (browser tests)"
  echo "and clang with libFuzzer (make fuzz) when missing."
  exit 0
fi

PACKAGES=(
  build-essential cmake pkg-config
  libmicrohttpd-dev libpq-dev libjansson-dev libhiredis-dev librabbitmq-dev
  libjwt-dev libsodium-dev libcurl4-openssl-dev libssl-dev libcmocka-dev
  postgresql postgresql-contrib redis-server rabbitmq-server
  wrk nginx-light curl procps chromium prometheus
  clang-14 libclang-rt-14-dev
)
# Node.js may come from another distribution channel that bundles npm (and
# conflicts with Debian's npm package): only ask for it when absent.
command -v node >/dev/null || PACKAGES+=(nodejs)
command -v npm >/dev/null || PACKAGES+=(npm)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: everything is installed"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# Packaged servers must not be started by their maintainer scripts: we run them
# ourselves, as ordinary processes, under var/.
policy_added=0
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  policy_added=1
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
if ((policy_added)); then $SUDO rm -f /usr/sbin/policy-rc.d; fi
echo "install-deps: done"
