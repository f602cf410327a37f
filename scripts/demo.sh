#!/usr/bin/env bash
# Set up a fresh machine (engine, Node, dependencies, images) and run the failover demo on the
# default topology: `failover-lab demo`. Pass `--lang zh-CN` for Simplified Chinese.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
node bin/failover-lab.js demo "$@"
