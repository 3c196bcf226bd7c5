#!/usr/bin/env bash
# Make sure `redis-server` is installed for the test suite and the benchmarks.
#
# tests/servers.py starts its own throwaway redis-server on a free loopback port,
# so only the binary is needed: this script never starts the system service.
#
# Exit status: 0 if redis-server is available (installed here when missing, as root, with
# apt-get); 1 otherwise, with the commands that fix it.
set -uo pipefail

POLICY=/usr/sbin/policy-rc.d
created_policy=0

have_redis() { command -v redis-server >/dev/null 2>&1; }

cleanup() { if [ "$created_policy" = 1 ]; then rm -f "$POLICY"; fi; }
trap cleanup EXIT

# Forbid maintainer scripts from starting services (Debian's policy-rc.d
# convention, honoured by invoke-rc.d and deb-systemd-invoke).
block_service_start() {
  if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$POLICY" && chmod 755 "$POLICY" && created_policy=1
  fi
}

install_redis() {
  echo "ensure-redis: redis-server not found; installing it with apt-get..." >&2
  block_service_start
  apt-get update -qq || echo "ensure-redis: apt-get update failed" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server \
    || echo "ensure-redis: apt-get install redis-server failed" >&2
  # On systemd hosts the package also enables the unit; we only want the binary.
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl disable --now redis-server >/dev/null 2>&1 || true
  fi
  hash -r
}

if ! have_redis && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  install_redis
fi

if have_redis; then
  echo "ensure-redis: using $(command -v redis-server) ($(redis-server --version | cut -d' ' -f3))"
  exit 0
fi

cat >&2 <<'EOF'
ensure-redis: redis-server is not installed, so the PostgreSQL+Redis test leg cannot run.
Install it with one of:
  sudo apt-get install -y redis-server    # Debian/Ubuntu (the service is not needed)
  brew install redis                      # macOS
or run this script as root on a Debian/Ubuntu machine. To run only the embedded leg:
make test-embedded.
EOF
exit 1
