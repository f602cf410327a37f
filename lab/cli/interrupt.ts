/**
 * Ctrl-C and SIGTERM: remove every deployment this process started, say what was interrupted,
 * and exit non-zero. A second signal exits at once (the next run reaps what is left).
 */
import { liveDeployments } from "../runtime/deployment.ts";

let activity = "start-up";

/** Name what the process is doing, for the interruption message. */
export function setActivity(what: string): void {
  activity = what;
}

export function installInterruptHandlers(): void {
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    const code = signal === "SIGTERM" ? 143 : 130;
    if (interrupted) process.exit(code);
    interrupted = true;
    process.stderr.write(`\nfailover-lab: interrupted by ${signal} during ${activity}; removing the lab's containers and networks…\n`);
    const deployments = liveDeployments();
    Promise.allSettled(deployments.map((d) => d.destroy())).then((results) => {
      const removed = results.flatMap((r) => (r.status === "fulfilled" ? r.value.containers : []));
      process.stderr.write(`failover-lab: removed ${removed.length} container(s) of ${deployments.length} lab(s); exiting with ${code}\n`);
      process.exit(code);
    });
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}
