#!/usr/bin/env bash
# Make sure Node ≥ 22.22 is first on PATH. Where the machine's Node is older (or missing but npm
# exists), installs the npm package node@24 into .tools/node and puts its bin first on PATH.
# Source it (`. scripts/ensure-node.sh`) to keep the PATH change in your shell; run it to see the line to add.
NODE_PACKAGE=node@24.21.0
_fl_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
_fl_tools="$_fl_root/.tools/node"

_fl_node_ok() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=22)?0:1)'
}

if [ -x "$_fl_tools/node_modules/.bin/node" ]; then
  export PATH="$_fl_tools/node_modules/.bin:$PATH"
fi
if ! _fl_node_ok; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "ensure-node: Node ≥ 22.22 is needed and neither it nor npm is installed." >&2
    echo "ensure-node: install Node 22 or 24 (https://nodejs.org/en/download) and run again." >&2
    return 1 2>/dev/null || exit 1
  fi
  echo "ensure-node: Node $(node --version 2>/dev/null || echo missing) is too old; installing $NODE_PACKAGE into .tools/node" >&2
  mkdir -p "$_fl_tools"
  npm install --prefix "$_fl_tools" --no-save --no-audit --no-fund --loglevel=error "$NODE_PACKAGE" >&2 || { return 1 2>/dev/null || exit 1; }
  export PATH="$_fl_tools/node_modules/.bin:$PATH"
  _fl_node_ok || { echo "ensure-node: $NODE_PACKAGE did not give a working node" >&2; return 1 2>/dev/null || exit 1; }
fi
echo "ensure-node: using Node $(node --version) at $(command -v node)" >&2
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  echo "export PATH=\"$(dirname "$(command -v node)"):\$PATH\""
fi
