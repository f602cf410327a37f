#!/usr/bin/env node
// failover-lab command line. Runs the TypeScript sources directly (Node's type stripping).
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 22)) {
  console.error(
    `failover-lab needs Node ≥ 22.22; this is Node ${process.versions.node}.\n` +
      "  → Run `bash scripts/ensure-node.sh` (installs Node 24 into .tools/ from the npm registry) and put .tools/node/bin first on PATH.",
  );
  process.exit(2);
}
await import("../lab/cli/main.ts");
