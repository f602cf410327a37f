#!/usr/bin/env bash
# Set up a fresh machine (engine, Node, dependencies) and run the whole test suite: `npm test`.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
npm test "$@"
