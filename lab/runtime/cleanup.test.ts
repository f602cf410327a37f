import type Dockerode from "dockerode";
import { describe, expect, it } from "vitest";
import { LabError } from "../errors.ts";
import { removeResources } from "./cleanup.ts";

/** An engine whose forced removal of `hung` never answers, as a TCG guest's once did. */
function engineWith(names: string[], hung: string): { docker: Dockerode; removed: string[] } {
  const removed: string[] = [];
  const docker = {
    listContainers: async () => names.map((n) => ({ Id: `id-${n}`, Names: [`/${n}`] })),
    getContainer: (id: string) => ({
      remove: () => (id === `id-${hung}` ? new Promise(() => undefined) : Promise.resolve(removed.push(id.slice(3)))),
    }),
    listNetworks: async () => [],
  } as unknown as Dockerode;
  return { docker, removed };
}

describe("clean-up against an engine that hangs", () => {
  it("a removal that never returns ends in an error naming the container and what to do, not in a hang", async () => {
    const { docker, removed } = engineWith(["lab-web1", "lab-lvs1"], "lab-lvs1");
    const err = await removeResources(docker, { kind: "run", run: "r1" }, 50).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LabError);
    expect((err as LabError).message).toContain("did not remove container lab-lvs1 within 0.05 s");
    expect((err as LabError).describe()).toContain("failover-lab down --all");
    expect(removed).toEqual(["lab-web1"]);
  });
});
