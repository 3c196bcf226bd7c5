#!/usr/bin/env bash
# Make sure the PostgreSQL 15 server binaries (initdb, postgres, psql) are installed for the
# test suite and the benchmarks.
#
# tests/servers.py runs its own throwaway cluster on a free loopback port, so only the binaries
# are needed: this script never creates a cluster nor starts the system service.
#
# Exit status: 0 if the binaries are available (installed here when missing, as root, with
# apt-get); 1 otherwise, with the commands that fix it.
set -uo pipefail

VERSION=15
BINDIR="${PLINTH_TEST_POSTGRES_BINDIR:-/usr/lib/postgresql/$VERSION/bin}"
POLICY=/usr/sbin/policy-rc.d
NO_MAIN_CLUSTER=/etc/postgresql-common/createcluster.d/plinth-no-main-cluster.conf
created_policy=0

# The same search as tests/servers.py: initdb and postgres side by side (in $BINDIR or, unless
# PLINTH_TEST_POSTGRES_BINDIR names a directory, on PATH), psql next to them or on PATH.
server_bindir() {
  if [ -x "$BINDIR/initdb" ] && [ -x "$BINDIR/postgres" ]; then echo "$BINDIR"; return 0; fi
  [ -z "${PLINTH_TEST_POSTGRES_BINDIR:-}" ] || return 1
  local initdb
  initdb="$(command -v initdb)" || return 1
  [ -x "$(dirname "$initdb")/postgres" ] && dirname "$initdb"
}

have_postgres() {
  local bindir
  bindir="$(server_bindir)" || return 1
  [ -x "$bindir/psql" ] || command -v psql >/dev/null 2>&1
}

cleanup() { if [ "$created_policy" = 1 ]; then rm -f "$POLICY"; fi; }
trap cleanup EXIT

# Forbid maintainer scripts from starting services (Debian's policy-rc.d convention).
block_service_start() {
  if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$POLICY" && chmod 755 "$POLICY" && created_policy=1
  fi
}

# Debian's postgresql-common creates a "main" cluster on install unless told not to.
block_main_cluster() {
  mkdir -p "$(dirname "$NO_MAIN_CLUSTER")" && echo "create_main_cluster = false" >"$NO_MAIN_CLUSTER"
}

install_postgres() {
  echo "ensure-postgres: PostgreSQL $VERSION not found; installing it with apt-get..." >&2
  block_service_start
  block_main_cluster
  apt-get update -qq || echo "ensure-postgres: apt-get update failed" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    "postgresql-$VERSION" "postgresql-client-$VERSION" \
    || echo "ensure-postgres: apt-get install postgresql-$VERSION failed" >&2
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl disable --now postgresql >/dev/null 2>&1 || true
  fi
  hash -r
}

# An explicit PLINTH_TEST_POSTGRES_BINDIR names binaries the user provides: never apt-get those.
if ! have_postgres && [ -z "${PLINTH_TEST_POSTGRES_BINDIR:-}" ] && [ "$(id -u)" -eq 0 ] \
  && command -v apt-get >/dev/null 2>&1; then
  install_postgres
fi

if have_postgres; then
  postgres="$(server_bindir)/postgres"
  echo "ensure-postgres: using $postgres ($("$postgres" --version))"
  exit 0
fi

cat >&2 <<EOF2
ensure-postgres: the PostgreSQL $VERSION server binaries (initdb, postgres, psql) are not
installed, so the PostgreSQL+Redis test leg cannot run. Install them with one of:
  sudo apt-get install -y postgresql-$VERSION    # Debian 12 (binaries in /usr/lib/postgresql/$VERSION/bin)
  brew install postgresql@$VERSION               # macOS (then put its bin/ on PATH)
or run this script as root on a Debian/Ubuntu machine, or set PLINTH_TEST_POSTGRES_BINDIR to
the directory that holds them. To run only the embedded leg: make test-embedded.
EOF2
exit 1
