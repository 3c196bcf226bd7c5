#!/usr/bin/env bash
# Make sure the benchmark's tools are installed: wrk (apt) and py-spy (bench/requirements.txt).
#
# wrk is installed with apt-get when missing and we are root (like scripts/ensure-redis.sh does
# for redis-server); otherwise this says how to install it and fails. PYTHON (default: the
# project's .venv) gets bench/requirements.txt.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"

if ! command -v wrk >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-tools: wrk not found; installing it with apt-get..." >&2
  apt-get update -qq || echo "ensure-tools: apt-get update failed" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk || echo "ensure-tools: apt-get install wrk failed" >&2
  hash -r
fi
if ! command -v wrk >/dev/null 2>&1; then
  echo "ensure-tools: wrk is missing: \`sudo apt-get install -y wrk\` (Debian/Ubuntu) or \`brew install wrk\`" >&2
  exit 1
fi

if ! "$PYTHON" -m pip install -q -r bench/requirements.txt; then
  echo "ensure-tools: could not install bench/requirements.txt (profiling will be skipped)" >&2
fi
echo "ensure-tools: using $(command -v wrk) and $("$PYTHON" -m pip show py-spy 2>/dev/null | grep -i '^version' || echo 'no py-spy')"
