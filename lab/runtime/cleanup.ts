/**
 * Clean-up by label, the only way the lab removes anything: a lab by name, every lab, or the
 * leftovers of runs whose process is gone (the next run reaps them before it starts).
 */
import type Dockerode from "dockerode";
import pRetry, { AbortError } from "p-retry";
import pTimeout from "p-timeout";
import { LabError } from "../errors.ts";
import { LABEL, ownerState } from "./labels.ts";

export interface Removed {
  containers: string[];
  networks: string[];
}

export type Selector =
  | { kind: "lab"; lab: string }
  | { kind: "run"; run: string }
  /** Everything a process created (its `owner` label, see labels.ts `currentOwner`). */
  | { kind: "owner"; owner: string }
  | { kind: "all" };

function labelFilter(selector: Selector): string[] {
  switch (selector.kind) {
    case "lab":
      return [`${LABEL.managed}=true`, `${LABEL.lab}=${selector.lab}`];
    case "run":
      return [`${LABEL.managed}=true`, `${LABEL.run}=${selector.run}`];
    case "owner":
      return [`${LABEL.managed}=true`, `${LABEL.owner}=${selector.owner}`];
    case "all":
      return [`${LABEL.managed}=true`];
  }
}

/**
 * How long one container's forced removal may take. A healthy engine needs seconds, a TCG guest's
 * tens of them; an engine whose kill never returns (seen once in the guest: all five DELETEs of a
 * lab pending for minutes, the containers still up) must not hang the caller for ever.
 */
export const REMOVE_TIMEOUT_MS = 180_000;

/** Remove every container (running, paused or stopped) and then every network the selector matches. */
export async function removeResources(docker: Dockerode, selector: Selector, removeTimeoutMs = REMOVE_TIMEOUT_MS): Promise<Removed> {
  const filters = { label: labelFilter(selector) };
  const containers = await docker.listContainers({ all: true, filters });
  await Promise.all(
    containers.map((c) =>
      pTimeout(
        docker
          .getContainer(c.Id)
          .remove({ force: true, v: true })
          .catch((err: { statusCode?: number }) => {
            if (err.statusCode !== 404 && err.statusCode !== 409) throw err;
          }),
        {
          milliseconds: removeTimeoutMs,
          message: new LabError(
            `the engine did not remove container ${(c.Names[0] ?? c.Id).replace(/^\//, "")} within ${removeTimeoutMs / 1000} s: its forced removal hangs in the engine`,
            { remedy: "Restart the engine (or power off the guest), then run `failover-lab down --all`." },
          ),
        },
      ),
    ),
  );
  const networks = await docker.listNetworks({ filters });
  for (const n of networks) {
    // A container whose removal was already under way (409 above) may still hold its endpoint: the
    // engine answers 403 "has active endpoints" until it is gone (seconds on a slow engine). Retry then.
    await pRetry(
      () =>
        docker
          .getNetwork(n.Id)
          .remove()
          .catch((err: { statusCode?: number; message?: string }) => {
            if (err.statusCode === 404) return;
            if (err.statusCode === 403 && /active endpoints/.test(err.message ?? "")) throw err;
            throw new AbortError(err as Error);
          }),
      { retries: 30, minTimeout: 250, maxTimeout: 4000, factor: 1.5 },
    );
  }
  return {
    containers: containers.map((c) => (c.Names[0] ?? c.Id).replace(/^\//, "")),
    networks: networks.map((n) => n.Name),
  };
}

export interface OrphanRun {
  run: string;
  lab: string;
  owner: string;
}

/** Runs whose owning process on this host is gone, and that were not started to stay up. */
export async function findOrphanRuns(docker: Dockerode): Promise<OrphanRun[]> {
  const filters = { label: [`${LABEL.managed}=true`] };
  const labelsOf = [
    ...(await docker.listContainers({ all: true, filters })).map((c) => c.Labels),
    ...(await docker.listNetworks({ filters })).map((n) => n.Labels ?? {}),
  ];
  const runs = new Map<string, OrphanRun>();
  for (const labels of labelsOf) {
    const run = labels[LABEL.run];
    if (!run || runs.has(run) || labels[LABEL.keep] === "true") continue;
    if (ownerState(labels[LABEL.owner]) === "gone") {
      runs.set(run, { run, lab: labels[LABEL.lab] ?? "?", owner: labels[LABEL.owner] ?? "?" });
    }
  }
  return [...runs.values()];
}

/**
 * Remove everything this process created — started labs, a network reserved before its nodes
 * started, throwaway config-check containers — including what an engine call still in flight
 * creates a moment later: sweep until a pass finds nothing (at most `passes`, `pauseMs` apart).
 */
export async function removeOwned(docker: Dockerode, owner: string, options: { passes?: number; pauseMs?: number } = {}): Promise<Removed> {
  const all: Removed = { containers: [], networks: [] };
  for (let pass = 0; pass < (options.passes ?? 4); pass++) {
    if (pass > 0) await new Promise((r) => setTimeout(r, options.pauseMs ?? 300));
    const removed = await removeResources(docker, { kind: "owner", owner });
    all.containers.push(...removed.containers.filter((c) => !all.containers.includes(c)));
    all.networks.push(...removed.networks.filter((n) => !all.networks.includes(n)));
    if (pass > 0 && removed.containers.length === 0 && removed.networks.length === 0) break;
  }
  return all;
}

/** Remove the leftovers of dead runs. Returns what was removed, per run. */
export async function reapOrphans(docker: Dockerode): Promise<Array<OrphanRun & Removed>> {
  const out: Array<OrphanRun & Removed> = [];
  for (const orphan of await findOrphanRuns(docker)) {
    out.push({ ...orphan, ...(await removeResources(docker, { kind: "run", run: orphan.run })) });
  }
  return out;
}
