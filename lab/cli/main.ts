/**
 * The command line: each command parses its flags and calls the library; nothing else lives here.
 */
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { DEFAULT_WEB_VIEW_PORT } from "../live/web-view.ts";
import { formatChecks, runDoctor } from "../doctor/doctor.ts";
import { ConsoleReporter, silentReporter } from "../report/reporter.ts";
import { removeResources } from "../runtime/cleanup.ts";
import { connectEngine } from "../runtime/engine.ts";
import { closeEngines } from "../runtime/engines.ts";
import { ImageBuilder, pruneImages } from "../runtime/images.ts";
import { type Lab, prepareTopology, startLab } from "../lab.ts";
import { loadScenario, scenarioNames } from "../scenario/catalog.ts";
import { parseOutputMode, parsePort, runScenarioCommand } from "./scenario-command.ts";
import { EXIT, exitCodeFor, printError } from "./exit.ts";
import { installInterruptHandlers, isInterrupted, setActivity } from "./interrupt.ts";

const program = new Command("failover-lab")
  .description("Failover lab for nginx + keepalived (VRRP): real daemons in Docker, faults, measured failover.")
  .option("-q, --quiet", "print only results")
  .option("-v, --verbose", "show build output and other details")
  .showHelpAfterError();

function describeLab(lab: Lab): string {
  const lines = [`lab ${lab.name} is up on ${lab.topology.subnetText}`];
  for (const n of lab.topology.nodes) lines.push(`  ${n.name.padEnd(8)} ${n.address.padEnd(15)} ${n.kind}   docker exec -it ${lab.name}-${n.name} bash`);
  for (const i of lab.topology.vrrp.instances) {
    for (const vip of i.vips) {
      const tryIt = lab.topology.webs.length > 0 ? `curl -si http://${vip}:${lab.topology.nginx.listen}/` : lab.topology.nacos ? `curl -si http://${vip}:8848/nacos/v1/console/health/readiness` : "";
      lines.push(`  VIP ${vip} (${i.name}, VRID ${i.vrid}) held by ${lab.vips.owners(vip).join(", ") || "nobody"}${tryIt ? `   ${tryIt}` : ""}`);
    }
  }
  lines.push(`remove it with: failover-lab down ${lab.name}`);
  return `${lines.join("\n")}\n`;
}

function reporter() {
  const o = program.opts<{ quiet?: boolean; verbose?: boolean }>();
  return o.quiet ? silentReporter : new ConsoleReporter({ verbose: o.verbose ?? false });
}

program
  .command("doctor")
  .description("check that this machine can run the lab: engine, capabilities, VRRP multicast, IP_VS, KVM, images")
  .option("--no-build", "do not build missing images (report them instead)")
  .action(async (opts: { build: boolean }) => {
    setActivity("doctor");
    const checks = await runDoctor({ reporter: reporter(), build: opts.build });
    process.stdout.write(`${formatChecks(checks)}\n`);
    process.exitCode = checks.some((c) => c.verdict === "fail") ? EXIT.checkFailed : EXIT.ok;
  });

program
  .command("images")
  .description("build the lab's images now (they are otherwise built on first use)")
  .option("--prune", "also remove the lab's images that are out of date")
  .action(async (opts: { prune?: boolean }) => {
    setActivity("image build");
    const engine = await connectEngine();
    const builder = new ImageBuilder(engine.docker, reporter());
    const tags = await builder.ensureAll();
    for (const [name, tag] of Object.entries(tags)) process.stdout.write(`${name.padEnd(8)} ${tag}\n`);
    if (opts.prune) {
      const removed = await pruneImages(engine.docker, Object.values(tags));
      process.stdout.write(`removed ${removed.length} out-of-date image(s)${removed.length ? `: ${removed.join(", ")}` : ""}\n`);
    }
  });

program
  .command("down")
  .description("remove a lab's containers and network (or every lab's, with --all)")
  .argument("[lab]", "lab name")
  .option("--all", "remove every lab's leftovers on this engine")
  .action(async (lab: string | undefined, opts: { all?: boolean }) => {
    if (!lab && !opts.all) {
      program.error("say which lab to remove (`failover-lab down <lab>`) or use `--all`", { exitCode: EXIT.badInput });
    }
    setActivity("down");
    const engine = await connectEngine();
    const removed = await removeResources(engine.docker, opts.all ? { kind: "all" } : { kind: "lab", lab: lab! });
    const what = opts.all ? "all labs" : `lab ${lab}`;
    if (removed.containers.length === 0 && removed.networks.length === 0) process.stdout.write(`nothing to remove for ${what}\n`);
    else process.stdout.write(`removed ${what}: ${removed.containers.length} container(s) [${removed.containers.join(", ")}], ${removed.networks.length} network(s) [${removed.networks.join(", ")}]\n`);
  });

const addViewOptions = (c: Command) =>
  c
    .option("--json <file>", "also write the report (JSON) to this file")
    .option("--output <mode>", "text, json (stdout: the report only) or jsonl (stdout: every op as it happens, then the report)", "text")
    .option("--runs-dir <dir>", "keep the run folder under this folder (default: $FAILOVER_LAB_RUNS_DIR, else ./runs)")
    .option("--no-store", "do not write a run folder")
    .option("--web", "serve the live view on 127.0.0.1 while the run lasts")
    .option("--port <n>", "port of the live view (0: any free one)", String(DEFAULT_WEB_VIEW_PORT))
    .option("--name <lab>", "run under this lab name instead of the scenario's (e.g. two copies at once)");

interface ViewFlags {
  name?: string;
  json?: string;
  output: string;
  runsDir?: string;
  store: boolean;
  web?: boolean;
  port: string;
}

function viewOptions(opts: ViewFlags) {
  const o = program.opts<{ quiet?: boolean; verbose?: boolean }>();
  return {
    output: parseOutputMode(opts.output),
    quiet: o.quiet ?? false,
    verbose: o.verbose ?? false,
    store: opts.store,
    runsDir: opts.runsDir,
    webPort: opts.web ? parsePort(opts.port) : undefined,
    jsonFile: opts.json,
    name: opts.name,
  };
}

addViewOptions(
  program
    .command("run")
    .description("run a scenario against real containers and check what happened (exit 0 pass, 1 a check failed, 2 bad input or environment)")
    .argument("[scenario]", "scenario name (see `failover-lab run --list`) or path of a scenario .ts file")
    .option("--list", "list the scenarios")
    .option("--keep", "leave the lab up afterwards (remove it with `failover-lab down <lab>`)"),
).action(async (name: string | undefined, opts: ViewFlags & { list?: boolean; keep?: boolean }) => {
  if (opts.list || !name) {
    for (const n of await scenarioNames()) process.stdout.write(`${n.padEnd(16)} ${(await loadScenario(n)).title}\n`);
    if (!name && !opts.list) process.exitCode = EXIT.badInput;
    return;
  }
  const views = viewOptions(opts);
  const scenario = await loadScenario(name);
  setActivity(`scenario ${scenario.name}`);
  const { exitCode } = await runScenarioCommand({ ...views, scenario, keep: opts.keep ?? false, narrate: false, lang: "en" });
  const lab = views.name ?? scenario.topology.name;
  if (opts.keep && views.output === "text") process.stdout.write(`lab ${lab} is still up; remove it with \`failover-lab down ${lab}\`\n`);
  process.exitCode = exitCode;
});

addViewOptions(
  program
    .command("demo")
    .description("the teaching tour on the default topology: kill nginx, restart it, power the master off and on — each step explained; ends with the HTML report")
    .option("--lang <lang>", "en or zh-CN (Simplified Chinese)", "en"),
).action(async (opts: ViewFlags & { lang: string }) => {
  if (opts.lang !== "en" && opts.lang !== "zh-CN") {
    program.error(`--lang must be en or zh-CN, got ${JSON.stringify(opts.lang)}`, { exitCode: EXIT.badInput });
  }
  const views = viewOptions(opts);
  setActivity("demo");
  const { exitCode } = await runScenarioCommand({ ...views, scenario: await loadScenario("tour"), narrate: true, lang: opts.lang as "en" | "zh-CN" });
  process.exitCode = exitCode;
});

program
  .command("up")
  .description("start a lab from a topology file and leave it up; prints its nodes and VIPs")
  .argument("<topology>", "a *.lab.yml file")
  .action(async (file: string) => {
    setActivity(`up ${file}`);
    const lab = await startLab({ file }, { reporter: reporter(), keep: true });
    try {
      await lab.waitForSteadyState();
    } finally {
      await lab.detach();
    }
    process.stdout.write(describeLab(lab));
  });

program
  .command("render")
  .description("print the keepalived.conf, nginx.conf and scripts the lab renders for a topology (no container starts)")
  .argument("<topology>", "a *.lab.yml file")
  .option("--node <name>", "only this node")
  .option("--subnet <cidr>", "render for this subnet (default: the topology's, else 10.213.0.0/24)")
  .action(async (file: string, opts: { node?: string; subnet?: string }) => {
    const { files } = await prepareTopology({ file }, opts.subnet);
    for (const [node, list] of files) {
      if (opts.node && node !== opts.node) continue;
      for (const f of list ?? []) process.stdout.write(`# ==> ${node}:${f.path} <==\n${f.content}\n`);
    }
  });

program
  .command("compose")
  .description("write docker-compose.yml and the configs it mounts (compose/) for the default topology, from what the lab renders")
  .option("--dir <dir>", "where to write them (default: the project's root)")
  .option("--check", "write nothing; exit 1 when the files there differ from what the lab renders")
  .action(async (opts: { dir?: string; check?: boolean }) => {
    const { staleCompose, writeCompose } = await import("../compose/compose.ts");
    const dir = opts.dir ?? fileURLToPath(new URL("../../", import.meta.url));
    if (opts.check) {
      const stale = await staleCompose(dir);
      process.stdout.write(stale.length ? `out of date in ${dir}: ${stale.join(", ")}; run \`failover-lab compose\`\n` : `docker-compose.yml and compose/ in ${dir} are up to date\n`);
      process.exitCode = stale.length ? EXIT.checkFailed : EXIT.ok;
      return;
    }
    const written = await writeCompose(dir);
    process.stdout.write(`wrote ${written.length} files in ${dir}: ${written.join(", ")}\n`);
  });

installInterruptHandlers();
program.exitOverride((err) => {
  process.exit(err.exitCode === 0 ? 0 : EXIT.badInput);
});
try {
  await program.parseAsync(process.argv);
} catch (err) {
  // After a signal the handler removes the lab under the running command, which then fails; the
  // handler says what happened and exits with 130/143.
  if (!isInterrupted()) {
    printError(err);
    process.exitCode = exitCodeFor(err);
  }
} finally {
  // A qemu guest booted for an IPVS lab is powered off cleanly (it would die with the process anyway).
  await closeEngines().catch(() => undefined);
}
