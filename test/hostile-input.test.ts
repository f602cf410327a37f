/**
 * Hostile topology files through the command line: exit 2 with a message naming the field (or the
 * file), nothing started — no container, no network, not even the daemons' throwaway config check —
 * and nothing executed from the input: every payload would create a canary file, which must not
 * exist afterwards. A `command` check script is meant to run, inside the lab's own load balancers:
 * the last test shows it runs there and nowhere else. (The same cases without an engine, and
 * generated ones: lab/topology/hostile.test.ts.)
 */
import { existsSync } from "node:fs";
import { mkdtemp, mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, labLeftovers } from "./fixtures/cli-process.ts";

const CANARY = join(tmpdir(), `robust-canary-${process.pid}`);
const touch = (n: number | string) => `touch ${CANARY}-${n}`;
let dir: string;

/** Files that must be refused, each with what the message must say. Lab names start with robust-h where they are valid. */
const CASES: Array<{ file: string; yaml: string; says: RegExp[] }> = [
  { file: "name-semicolon", yaml: `name: "lb1; ${touch(1)}"\n`, says: [/:1: name: must be 1–24 lowercase letters/] },
  { file: "name-subst", yaml: `name: "$(${touch(2)})"\n`, says: [/:1: name: must be 1–24 lowercase letters/] },
  { file: "node-backticks", yaml: `name: robust-h3\nlb:\n  "\`${touch(3)}\`": {}\n  lb2: {}\n`, says: [/:3: lb\..*: key .*must be 1–24 lowercase letters/] },
  { file: "wrong-types", yaml: "name: 42\nlb: [1, 2]\nclient: yes-please\nnginx: 7\n", says: [/:1: name: expected string, got 42/, /:2: lb: expected record, got \[1,2\]/, /:3: client: expected boolean, got "yes-please"/] },
  { file: "huge-numbers", yaml: "name: robust-h5\nnginx:\n  listen: 1e308\nkeepalived:\n  instances:\n    VI_1:\n      virtualRouterId: 99999999999999999999999\n      advertInt: .inf\n      priorities: { lb1: .nan, lb2: 90 }\n", says: [/nginx\.listen: must be at most 65535, got 1e\+308/, /virtualRouterId: must be at most 255, got 1e\+23/, /advertInt: expected number, got Infinity/, /priorities\.lb1: expected number, got NaN/] },
  { file: "unicode", yaml: "name: robust-h6\nlb:\n  \"lb\u200b1\": {}\n  \"\u202elb2\": {}\n  лб3: {}\n", says: [/must be 1–24 lowercase letters/] },
  { file: "script-on-bad-topology", yaml: `name: robust-h7\nkeepalived:\n  scripts:\n    chk: { check: command, command: "${touch(7)}" }\n  instances:\n    VI_1: { virtualRouterId: 300, priorities: { lb1: 100, lb2: 90 }, track: [chk] }\n`, says: [/virtualRouterId: must be at most 255, got 300/] },
  { file: "notify-on-bad-topology", yaml: `name: robust-h8\nkeepalived:\n  instances:\n    VI_1: { virtualRouterId: 51, priorities: { lb1: 100, lb2: 90 }, notify: "${touch(8)}", advertInt: 0.5 }\n`, says: [/advertInt: 0\.5 s is not possible with VRRP version 2/] },
  { file: "hashkey-inject", yaml: `name: robust-h9\nnginx:\n  upstream:\n    balance: hash\n    hashKey: "$remote_addr; } server { listen 81; location / { return 200 pwned; } } upstream x { server 10.0.0.1"\n`, says: [/nginx\.upstream\.hashKey: must be nginx variables and text without spaces, quotes, ";" or braces/] },
  { file: "auth-inject", yaml: "name: robust-h10\nkeepalived:\n  instances:\n    VI_1: { virtualRouterId: 51, priorities: { lb1: 100, lb2: 90 }, auth: { type: PASS, pass: \"a}#x\" } }\n", says: [/auth\.pass: must be printable ASCII without spaces, quotes, braces/] },
  { file: "paths-outside", yaml: `name: robust-h11\nnginx:\n  config: /etc/passwd\nkeepalived:\n  config: { lb1: ../../etc/shadow, lb2: "$(${touch(11)})" }\n`, says: [/nginx\.config: \/etc\/passwd is outside the topology's folder/, /keepalived\.config\.lb1: \.\.\/\.\.\/etc\/shadow is outside the topology's folder/, /keepalived\.config\.lb2: cannot read \$\(touch/] },
  { file: "symlink-outside", yaml: "name: robust-h12\nnginx:\n  config: conf/nginx.conf\n", says: [/nginx\.config: conf\/nginx\.conf leads \(through a symbolic link\) to \/etc\/passwd, outside the topology's folder/] },
  { file: "alias-bomb", yaml: ["name: robust-h13", "a: &a [x,x,x,x,x,x,x,x,x]", "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]", "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]", "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]", "e: [*d,*d,*d,*d,*d,*d,*d,*d,*d]", ""].join("\n"), says: [/\(yaml\): Excessive alias count/] },
  { file: "deep-nesting", yaml: `name: robust-h14\nx: ${"[".repeat(20_000)}${"]".repeat(20_000)}\n`, says: [/\(yaml\): /] },
  { file: "huge-file", yaml: `name: robust-h15\ndescription: "${"A".repeat(400_000)}"\n`, says: [/is \d+ bytes; a topology is at most 262144/] },
  { file: "yaml-tag", yaml: `name: !!js/function "function(){require('fs').writeFileSync('${CANARY}-16','x')}"\n`, says: [/:1: name: must be 1–24 lowercase letters/] },
  { file: "prototype-keys", yaml: "name: robust-h17\n__proto__: { polluted: true }\nconstructor: { prototype: { polluted: true } }\n", says: [/__proto__: unknown field `__proto__` \(fix: remove it/, /constructor: unknown field `constructor` \(fix: remove it/] },
  { file: "binary", yaml: "\u0000\u0001\u00ff\u00fe garbage", says: [/must be a YAML mapping/] },
  { file: "empty", yaml: "", says: [/must be a YAML mapping/] },
];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "robust-hostile-"));
  await mkdir(join(dir, "conf"));
  await symlink("/etc/passwd", join(dir, "conf", "nginx.conf"));
  for (const c of CASES) await writeFile(join(dir, `${c.file}.lab.yml`), c.file === "binary" ? Buffer.from([0, 1, 0xff, 0xfe, 0x20, 0x67]) : c.yaml);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await execa("rm", ["-f", ...CASES.map((_, i) => `${CANARY}-${i}`)]);
});

/** What the engine created in [sinceS, now]: containers of this owner pid, networks of robust-h labs. */
async function createdSince(sinceS: number, pid: number): Promise<string[]> {
  const r = await execa("docker", ["events", "--since", String(sinceS), "--until", String(Math.ceil(Date.now() / 1000) + 1), "--filter", "event=create", "--format", "{{json .}}"]);
  return r.stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { Type: string; Actor: { Attributes: Record<string, string> } })
    .filter((e) => (e.Type === "container" && (e.Actor.Attributes["io.failover-lab.owner"] ?? "").includes(`:${pid}:`)) || (e.Type === "network" && (e.Actor.Attributes.name ?? "").startsWith("failover-lab-robust-h")))
    .map((e) => `${e.Type} ${e.Actor.Attributes.name}`);
}

describe("hostile topology files: exit 2, a clear message, nothing started, nothing executed", () => {
  for (const c of CASES) {
    it(c.file, async () => {
      const sinceS = Math.floor(Date.now() / 1000) - 1;
      const sub = execa(process.execPath, [CLI, "up", join(dir, `${c.file}.lab.yml`)], { reject: false, timeout: 60_000 });
      const pid = sub.pid!;
      const r = await sub;
      expect(r.exitCode, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/^failover-lab: Invalid topology/);
      for (const pattern of c.says) expect(r.stderr).toMatch(pattern);
      expect(r.stderr).toContain("no container was started");
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(r.stderr).not.toContain("root:x:0:0");
      expect(await createdSince(sinceS, pid)).toEqual([]);
      expect(CASES.map((_, i) => `${CANARY}-${i}`).filter((f) => existsSync(f))).toEqual([]);
    });
  }
});

describe("a command check script runs where it is meant to", () => {
  it("inside the lab's load balancers, never on the host", async () => {
    const lab = "robust-h-script";
    const file = join(dir, "command-script.lab.yml");
    const inside = `/tmp/robust-canary-inside-${process.pid}`;
    await writeFile(
      file,
      [`name: ${lab}`, "keepalived:", "  scripts:", `    chk: { check: command, command: "touch ${inside}; pgrep -x nginx >/dev/null", interval: 1 }`, "  instances:", "    VI_1: { virtualRouterId: 51, priorities: { lb1: 100, lb2: 90 }, track: [chk] }", ""].join("\n"),
    );
    try {
      const up = await execa(process.execPath, [CLI, "-q", "up", file], { reject: false, timeout: 180_000 });
      expect(up.exitCode, up.stderr).toBe(0);
      for (const node of ["lb1", "lb2"]) {
        const r = await execa("docker", ["exec", `${lab}-${node}`, "test", "-e", inside], { reject: false });
        expect(r.exitCode, `${inside} in ${node}`).toBe(0);
      }
      expect(existsSync(inside)).toBe(false);
    } finally {
      await execa(process.execPath, [CLI, "down", lab], { reject: false });
    }
    expect(await labLeftovers(lab)).toEqual({ containers: [], networks: [] });
  });
});
