#!/usr/bin/env bash
# A headless Chromium for tests/docs/test_site_in_browser.py (Playwright drives it).
#
# First Playwright's own build (`playwright install --with-deps chromium`: its CDN, plus apt-get
# for the system libraries when run as root); where that download is not reachable, Debian's
# `chromium` package with apt-get (as root), which the test finds on PATH.
#
# Exit status: 0 if one of them is available; 1 otherwise, with the commands that fix it.
set -uo pipefail
BIN="$(cd "$(dirname "$0")/.." && pwd)/.venv/bin"

if "$BIN/python" -c 'from playwright.sync_api import sync_playwright
with sync_playwright() as p: p.chromium.launch().close()' >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ]; then
  "$BIN/playwright" install --with-deps chromium && exit 0
  echo "ensure-chromium: Playwright's Chromium could not be installed; trying Debian's chromium" >&2
  command -v chromium >/dev/null 2>&1 && exit 0
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null \
    && exit 0
else
  "$BIN/playwright" install chromium && exit 0
  command -v chromium >/dev/null 2>&1 && exit 0
fi
echo "ensure-chromium: no headless Chromium. Run as root: .venv/bin/playwright install --with-deps chromium" \
  "(or: apt-get install chromium)" >&2
exit 1
