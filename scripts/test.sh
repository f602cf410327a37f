#!/usr/bin/env bash
# Set up a fresh machine (engine, Node, dependencies, and the tests' tools: Debian's chromium for the
# report and live-view pages, docker-compose for docker-compose.yml, qemu for the LVS scenarios' guest
# engine when the kernel has no IPVS) and run the whole test suite: `npm test`.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
bash scripts/ensure-browser.sh
bash scripts/ensure-compose.sh
bash scripts/ensure-qemu.sh
npm test "$@"
