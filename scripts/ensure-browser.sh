#!/usr/bin/env bash
# Make sure Debian's `chromium` is installed: the tests open the HTML report and the live view in it,
# headless, through playwright-core (which never downloads a browser of its own).
# - Does nothing when chromium is already there ($FAILOVER_LAB_CHROMIUM, default /usr/bin/chromium).
# - On Debian/Ubuntu as root: installs the distribution's `chromium` package.
# - Elsewhere: says what to do and exits 0 — the browser tests then skip, naming the reason.
set -euo pipefail

say() { printf 'ensure-browser: %s\n' "$*" >&2; }
CHROMIUM=${FAILOVER_LAB_CHROMIUM:-/usr/bin/chromium}

if [ -x "$CHROMIUM" ]; then
  say "chromium present: $("$CHROMIUM" --version 2>/dev/null | head -n 1)"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  say "chromium is not installed at $CHROMIUM and this is not Debian/Ubuntu as root, so it cannot be installed here."
  say "Install Chromium (Debian/Ubuntu: sudo apt-get install chromium) and set FAILOVER_LAB_CHROMIUM to its path;"
  say "until then the tests that open the HTML report and the live view in a browser are skipped."
  exit 0
fi
say "installing Debian's chromium (headless browser for the report and live-view tests)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
say "chromium installed: $("$CHROMIUM" --version 2>/dev/null | head -n 1)"
