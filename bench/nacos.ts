/**
 * `npm run bench:nacos [-- embedded|mysql]`: a 3-member Nacos cluster behind the load-balancer
 * pair — how long each member takes to start and how much memory it holds. Not a timed test: it
 * prints figures (with the load average beside them, as the machine is shared) and writes
 * bench/results/nacos-<storage>.json.
 *
 * Per member: the JVM's own start-up (nacos-start → "Nacos started successfully", stamped in the
 * node by lab-stamp), when it answered HTTP (labctl), the heap it was given (JVM_XMS/XMX/XMN), its
 * RSS (ps) and its container's memory (cgroup memory.current) once the cluster formed and again
 * after 30 s of the Nacos workload through the VIP. For the cluster: lab start → every member ready
 * and seeing every member UP, on the lab's monotonic clock.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { nacosSummary } from "../lab/checkers/nacos.ts";
import { formatIpv4, nthAddress } from "../lab/ipv4.ts";
import { startLab } from "../lab/lab.ts";
import { ConsoleReporter } from "../lab/report/reporter.ts";
import type { LabNode } from "../lab/runtime/node-container.ts";

const storage = process.argv[2] === "mysql" ? "mysql" : "embedded";
const RESULTS = join(import.meta.dirname, "results");
const load = () => loadavg().map((x) => Math.round(x * 100) / 100);
const say = (text: string) => process.stdout.write(`${text}   [load ${load().join(" ")}]\n`);
const round1 = (x: number) => Math.round(x * 10) / 10;

/** Seconds from the last "nacos-start: Nacos" line to the next "Nacos started successfully" in the member's log. */
async function jvmStartupS(node: LabNode): Promise<number | null> {
  const lines = (await node.readFile("/var/log/lab/nacos.log")).split("\n");
  const startIdx = lines.findLastIndex((l) => / nacos-start: Nacos /.test(l));
  const done = lines.slice(startIdx).find((l) => /Nacos started successfully/.test(l));
  if (startIdx < 0 || !done) return null;
  return round1(Number(done.split(" ")[0]) - Number(lines[startIdx]!.split(" ")[0]));
}

/** labctl's "nacos answers HTTP after N s" from the boot log. */
async function answersHttpS(node: LabNode): Promise<number | null> {
  const m = /nacos answers HTTP after ([\d.]+) s/.exec(await node.readFile("/var/log/lab/boot.log").catch(() => ""));
  return m ? Number(m[1]) : null;
}

/** The JVM's RSS (ps in the node) and the container's memory as the engine counts it (usage less page cache). */
async function memory(node: LabNode): Promise<{ rssMiB: number; containerMiB: number | null }> {
  const rss = await node.exec(["ps", "-o", "rss=", "-C", "nacos"]);
  const stats = (await lab.deployment.engine.docker.getContainer(node.containerId).stats({ stream: false })) as { memory_stats?: { usage?: number; stats?: Record<string, number> } };
  const m = stats.memory_stats;
  const cache = m?.stats?.inactive_file ?? m?.stats?.total_inactive_file ?? m?.stats?.cache ?? 0;
  return {
    rssMiB: Math.round(Number(rss.stdout.trim()) / 1024),
    containerMiB: m?.usage === undefined ? null : Math.round((m.usage - cache) / 2 ** 20),
  };
}

say(`bench nacos (${storage} storage): 3 members, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB`);
const loadAtStart = load();
const t0 = performance.now();
await using lab = await startLab({ name: `nacos-bench-${storage === "mysql" ? "my" : "em"}`, web: {}, nacos: { members: 3, storage } }, { reporter: new ConsoleReporter({ stream: process.stdout }) });
const upS = (performance.now() - t0) / 1000;
await lab.waitForSteadyState();
const readyS = (performance.now() - t0) / 1000;
say(`containers up after ${upS.toFixed(1)} s; cluster ready (every member UP in every view) after ${readyS.toFixed(1)} s`);

const members = lab.topology.nacos!.members;
const env = (await lab.node(members[0]!.name).readFile("/etc/lab/nacos.env")).split("\n");
const heap = Object.fromEntries(env.filter((l) => /^JVM_XM[SXN]=/.test(l)).map((l) => l.split("=") as [string, string]));
const perMember: Array<Record<string, unknown>> = [];
for (const m of members) {
  const node = lab.node(m.name);
  perMember.push({ member: m.name, jvmStartupS: await jvmStartupS(node), answersHttpS: await answersHttpS(node), formed: await memory(node) });
}

const workload = lab.nacosWorkload({ instances: [201, 202].map((n) => `${formatIpv4(nthAddress(lab.topology.subnet, n))}:8080`) });
workload.start();
await new Promise((r) => setTimeout(r, 30_000));
await workload.stop();
for (const p of perMember) p.afterWorkload = await memory(lab.node(String(p.member)));
const calls = nacosSummary(lab.history.ops());

for (const p of perMember) {
  const f = p.formed as { rssMiB: number; containerMiB: number | null };
  const w = p.afterWorkload as { rssMiB: number; containerMiB: number | null };
  say(`${p.member}: JVM start-up ${p.jvmStartupS} s, answers HTTP after ${p.answersHttpS} s; RSS ${f.rssMiB} MiB formed, ${w.rssMiB} MiB after 30 s of workload (container ${w.containerMiB} MiB); heap ${heap.JVM_XMS}/${heap.JVM_XMX}, young ${heap.JVM_XMN}`);
}
say(`workload: ${calls.total} calls in 30 s through the VIP, ${calls.failed} failed`);

await mkdir(RESULTS, { recursive: true });
const file = join(RESULTS, `nacos-${storage}.json`);
await writeFile(
  file,
  `${JSON.stringify(
    {
      benchmark: "nacos",
      storage,
      finishedAt: new Date().toISOString(),
      machine: { cores: cpus().length, cpuModel: cpus()[0]?.model ?? "?", ramGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10, node: process.versions.node },
      loadAtStart,
      loadAtEnd: load(),
      heap,
      containersUpS: round1(upS),
      clusterReadyS: round1(readyS),
      members: perMember,
      workload: { seconds: 30, total: calls.total, failed: calls.failed, byOperation: calls.byOperation },
    },
    null,
    2,
  )}\n`,
);
say(`wrote ${file}`);
