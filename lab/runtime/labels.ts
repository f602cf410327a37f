/**
 * Labels on every container and network the lab creates. Clean-up works only from these:
 * `down <lab>` by lab name, `down --all` by the managed label, and the reaper by owner process.
 */
import { hostname } from "node:os";
import { readFileSync } from "node:fs";

export const LABEL = {
  managed: "io.failover-lab.managed",
  lab: "io.failover-lab.lab",
  run: "io.failover-lab.run",
  node: "io.failover-lab.node",
  role: "io.failover-lab.role",
  /** "host:pid:starttime" of the process that owns the run; the reaper checks it is still alive. */
  owner: "io.failover-lab.owner",
  /** "true" when the lab was started to stay up (`up`, `run --keep`): never reaped automatically. */
  keep: "io.failover-lab.keep",
  /** Content hash of an image's build context. */
  contextHash: "io.failover-lab.context-hash",
} as const;

export interface RunLabels {
  lab: string;
  run: string;
  keep: boolean;
}

/** Labels for one resource of a run; node and role for containers. */
export function labelsFor(run: RunLabels, node?: { name: string; role: string }): Record<string, string> {
  const labels: Record<string, string> = {
    [LABEL.managed]: "true",
    [LABEL.lab]: run.lab,
    [LABEL.run]: run.run,
    [LABEL.owner]: currentOwner(),
    [LABEL.keep]: String(run.keep),
  };
  if (node) {
    labels[LABEL.node] = node.name;
    labels[LABEL.role] = node.role;
  }
  return labels;
}

/** Identity of this process that survives pid reuse: host, pid and the kernel's start time of the pid. */
export function currentOwner(): string {
  return `${hostname()}:${process.pid}:${processStartTime(process.pid) ?? "?"}`;
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot), or undefined if gone. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces; fields after the closing parenthesis are fixed.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return rest[19];
  } catch {
    return undefined;
  }
}

export type OwnerState = "alive" | "gone" | "unknown";

/** Whether the process that owns a run is still alive. Another host's process is "unknown". */
export function ownerState(owner: string | undefined, thisHost = hostname()): OwnerState {
  if (!owner) return "unknown";
  const [host, pidText, start] = owner.split(":");
  if (host !== thisHost) return "unknown";
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return "unknown";
  const now = processStartTime(pid);
  if (now === undefined) return "gone";
  if (start && start !== "?" && start !== now) return "gone"; // the pid was reused
  return "alive";
}
