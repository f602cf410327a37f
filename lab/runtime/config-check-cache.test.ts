import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { ConfigCheckJob, ConfigProblem } from "./config-check.ts";
import { checkConfigsCached, configCheckKey } from "./config-check-cache.ts";

const job = (content: string, image = "failover-lab/lb:abc"): ConfigCheckJob => ({
  node: "lb1",
  image,
  files: [{ path: "/etc/keepalived/keepalived.conf", content }],
  checks: [{ name: "keepalived --config-test", command: ["keepalived", "--config-test"] }],
});

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("config-check cache", () => {
  it("reuses a passed check of the same inputs and runs again when a file or the image changes", async () => {
    dir = await mkdtemp(join(tmpdir(), "fl-cc-"));
    let runs = 0;
    const run = async (): Promise<ConfigProblem[]> => {
      runs++;
      return [];
    };
    expect((await checkConfigsCached([job("a")], run, dir)).cached).toBe(false);
    expect((await checkConfigsCached([job("a")], run, dir)).cached).toBe(true);
    expect(runs).toBe(1);
    await checkConfigsCached([job("b")], run, dir);
    await checkConfigsCached([job("a", "failover-lab/lb:def")], run, dir);
    expect(runs).toBe(3);
  });

  it("never caches a result with an error", async () => {
    dir = await mkdtemp(join(tmpdir(), "fl-cc-"));
    let runs = 0;
    const failing = async (): Promise<ConfigProblem[]> => {
      runs++;
      return [{ node: "lb1", check: "k", path: "/etc/keepalived/keepalived.conf", line: 3, message: "Unknown keyword", severity: "error" }];
    };
    await checkConfigsCached([job("bad")], failing, dir);
    const again = await checkConfigsCached([job("bad")], failing, dir);
    expect([again.cached, runs]).toEqual([false, 2]);
    expect(again.problems[0]?.message).toBe("Unknown keyword");
  });

  it("keys on content, mode and command, not on order", () => {
    const a = job("x");
    const b: ConfigCheckJob = { ...job("x"), files: [...job("x").files, { path: "/etc/keepalived/chk.sh", content: "#!/bin/sh", mode: 0o755 }] };
    const c: ConfigCheckJob = { ...b, files: [...b.files].reverse() };
    expect(configCheckKey([b])).toBe(configCheckKey([c]));
    expect(configCheckKey([a])).not.toBe(configCheckKey([b]));
    expect(configCheckKey([{ ...b, files: b.files.map((f) => ({ ...f, mode: 0o644 })) }])).not.toBe(configCheckKey([b]));
  });
});
