/**
 * Ctrl-C and SIGTERM: remove every deployment this process started, and then everything else it
 * created on the engine (by its owner label: a network reserved before the nodes started, the
 * throwaway config-check containers, a node still being created) — say what was interrupted, and
 * exit non-zero. A second signal exits at once (the next run reaps what is left).
 */
import { removeOwned } from "../runtime/cleanup.ts";
import { liveDeployments } from "../runtime/deployment.ts";
import { connectEngine } from "../runtime/engine.ts";
import { currentOwner } from "../runtime/labels.ts";

let activity = "start-up";
let interrupted = false;

/** Whether a signal has arrived: errors the clean-up causes in the interrupted work are not news then. */
export function isInterrupted(): boolean {
  return interrupted;
}

/** Name what the process is doing, for the interruption message. */
export function setActivity(what: string): void {
  activity = what;
}

export function installInterruptHandlers(): void {
  const onSignal = (signal: NodeJS.Signals) => {
    const code = signal === "SIGTERM" ? 143 : 130;
    if (interrupted) process.exit(code);
    interrupted = true;
    process.stderr.write(`\nfailover-lab: interrupted by ${signal} during ${activity}; removing the lab's containers and networks…\n`);
    const deployments = liveDeployments();
    void (async () => {
      const results = await Promise.allSettled(deployments.map((d) => d.destroy()));
      const containers = new Set(results.flatMap((r) => (r.status === "fulfilled" ? r.value.containers : [])));
      const networks = new Set(results.flatMap((r) => (r.status === "fulfilled" ? r.value.networks : [])));
      try {
        const swept = await removeOwned((await connectEngine()).docker, currentOwner());
        for (const c of swept.containers) containers.add(c);
        for (const n of swept.networks) networks.add(n);
      } catch (err) {
        process.stderr.write(`failover-lab: could not sweep this process's containers (${(err as Error).message}); the next run removes them\n`);
      }
      process.stderr.write(`failover-lab: removed ${containers.size} container(s) and ${networks.size} network(s) of ${activity}; exiting with ${code}\n`);
      process.exit(code);
    })();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}
