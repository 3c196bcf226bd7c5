#!/usr/bin/env bash
# Make sure `pgbouncer` is installed for the test suite and the benchmarks.
#
# tests/servers.py starts its own throwaway pgbouncer (transaction pooling) on a free loopback
# port in front of its own PostgreSQL, so only the binary is needed: this script never starts
# the system service.
#
# Exit status: 0 if pgbouncer is available (installed here when missing, as root, with
# apt-get); 1 otherwise, with the commands that fix it.
set -uo pipefail

POLICY=/usr/sbin/policy-rc.d
created_policy=0

have_pgbouncer() {
  command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ]
}

binary() { command -v pgbouncer 2>/dev/null || echo /usr/sbin/pgbouncer; }

cleanup() { if [ "$created_policy" = 1 ]; then rm -f "$POLICY"; fi; }
trap cleanup EXIT

# Forbid maintainer scripts from starting services (Debian's policy-rc.d convention).
block_service_start() {
  if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$POLICY" && chmod 755 "$POLICY" && created_policy=1
  fi
}

install_pgbouncer() {
  echo "ensure-pgbouncer: pgbouncer not found; installing it with apt-get..." >&2
  block_service_start
  apt-get update -qq || echo "ensure-pgbouncer: apt-get update failed" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer \
    || echo "ensure-pgbouncer: apt-get install pgbouncer failed" >&2
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl disable --now pgbouncer >/dev/null 2>&1 || true
  fi
  hash -r
}

if ! have_pgbouncer && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  install_pgbouncer
fi

if have_pgbouncer; then
  echo "ensure-pgbouncer: using $(binary) ($("$(binary)" --version | head -1))"
  exit 0
fi

cat >&2 <<'EOF2'
ensure-pgbouncer: pgbouncer is not installed, so the PgBouncer tests are skipped.
Install it with one of:
  sudo apt-get install -y pgbouncer    # Debian/Ubuntu (the service is not needed)
  brew install pgbouncer               # macOS
or run this script as root on a Debian/Ubuntu machine.
EOF2
exit 1
