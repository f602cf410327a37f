#!/usr/bin/env bash
# Everything a fresh machine needs before the lab runs: a Docker engine (installed and started on
# Debian/Ubuntu as root), Node ≥ 22.22, and the project's dependencies (npm ci, from the lockfile).
# (The tests' own tools, chromium and docker-compose, are installed by scripts/test.sh.)
# Source it: `. scripts/setup.sh` (the test and demo scripts do).
set -euo pipefail
_fl_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$_fl_root"
bash scripts/ensure-docker.sh
. scripts/ensure-node.sh
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing dependencies (npm ci)" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
export TESTCONTAINERS_RYUK_DISABLED=true
