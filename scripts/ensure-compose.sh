#!/usr/bin/env bash
# Make sure `docker-compose` is installed (the test of docker-compose.yml uses it; Debian ships 1.29).
# - Does nothing when docker-compose is already on PATH.
# - On Debian/Ubuntu as root: installs the distribution's `docker-compose` package.
# - Elsewhere: says what to do and exits 0 — the compose test then skips, naming the reason.
set -euo pipefail

say() { printf 'ensure-compose: %s\n' "$*" >&2; }

if command -v docker-compose >/dev/null 2>&1; then
  say "docker-compose present: $(docker-compose version --short 2>/dev/null || echo unknown version)"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  say "docker-compose is not installed and this is not Debian/Ubuntu as root, so it cannot be installed here."
  say "Install docker-compose (1.29+) or Docker's compose v2 plugin; until then the compose test is skipped."
  exit 0
fi
say "installing Debian's docker-compose"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends docker-compose >/dev/null
say "docker-compose installed: $(docker-compose version --short 2>/dev/null)"
