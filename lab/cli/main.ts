/**
 * The command line: each command parses its flags and calls the library; nothing else lives here.
 */
import { Command } from "commander";
import { formatChecks, runDoctor } from "../doctor/doctor.ts";
import { ConsoleReporter, silentReporter } from "../report/reporter.ts";
import { removeResources } from "../runtime/cleanup.ts";
import { connectEngine } from "../runtime/engine.ts";
import { ImageBuilder, pruneImages } from "../runtime/images.ts";
import { writeFile } from "node:fs/promises";
import { type Lab, prepareTopology, startLab } from "../lab.ts";
import { formatChecksTable } from "../report/checks-table.ts";
import { formatTimeline } from "../report/timeline-text.ts";
import { reportExitCode } from "../report/report.ts";
import { loadScenario, scenarioNames } from "../scenario/catalog.ts";
import { runScenario } from "../scenario/run.ts";
import { EXIT, exitCodeFor, printError } from "./exit.ts";
import { installInterruptHandlers, setActivity } from "./interrupt.ts";

const program = new Command("failover-lab")
  .description("Failover lab for nginx + keepalived (VRRP): real daemons in Docker, faults, measured failover.")
  .option("-q, --quiet", "print only results")
  .option("-v, --verbose", "show build output and other details")
  .showHelpAfterError();

function describeLab(lab: Lab): string {
  const lines = [`lab ${lab.name} is up on ${lab.topology.subnetText}`];
  for (const n of lab.topology.nodes) lines.push(`  ${n.name.padEnd(8)} ${n.address.padEnd(15)} ${n.kind}   docker exec -it ${lab.name}-${n.name} bash`);
  for (const i of lab.topology.vrrp.instances) {
    for (const vip of i.vips) lines.push(`  VIP ${vip} (${i.name}, VRID ${i.vrid}) held by ${lab.vips.owners(vip).join(", ") || "nobody"}   curl -si http://${vip}:${lab.topology.nginx.listen}/`);
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

program
  .command("run")
  .description("run a scenario against real containers and check what happened (exit 0 pass, 1 a check failed, 2 bad input or environment)")
  .argument("[scenario]", "scenario name (see `failover-lab run --list`) or path of a scenario .ts file")
  .option("--list", "list the scenarios")
  .option("--json <file>", "write the report (JSON) to this file")
  .option("--keep", "leave the lab up afterwards (remove it with `failover-lab down <lab>`)")
  .action(async (name: string | undefined, opts: { list?: boolean; json?: string; keep?: boolean }) => {
    if (opts.list || !name) {
      for (const n of await scenarioNames()) process.stdout.write(`${n.padEnd(16)} ${(await loadScenario(n)).title}\n`);
      if (!name && !opts.list) process.exitCode = EXIT.badInput;
      return;
    }
    const scenario = await loadScenario(name);
    setActivity(`scenario ${scenario.name}`);
    const { report } = await runScenario(scenario, { reporter: reporter(), keep: opts.keep ?? false });
    if (opts.json) await writeFile(opts.json, `${JSON.stringify(report, null, 2)}\n`);
    if (!program.opts<{ quiet?: boolean }>().quiet) process.stdout.write(`\nWhat happened (seconds since the lab started):\n${formatTimeline(report)}\n\n`);
    process.stdout.write(`${formatChecksTable(report)}\n`);
    if (opts.keep) process.stdout.write(`lab ${scenario.topology.name} is still up; remove it with \`failover-lab down ${scenario.topology.name}\`\n`);
    process.exitCode = reportExitCode(report);
  });

program
  .command("demo")
  .description("the teaching tour on the default topology: kill nginx, restart it, power the master off and on — each step explained")
  .option("--lang <lang>", "en or zh-CN (Simplified Chinese)", "en")
  .option("--json <file>", "write the report (JSON) to this file")
  .action(async (opts: { lang: string; json?: string }) => {
    if (opts.lang !== "en" && opts.lang !== "zh-CN") {
      program.error(`--lang must be en or zh-CN, got ${JSON.stringify(opts.lang)}`, { exitCode: EXIT.badInput });
    }
    const lang = opts.lang as "en" | "zh-CN";
    const { messages } = await import("../demo/messages.ts");
    setActivity("demo");
    const say = (text: string) => process.stdout.write(`\n▶ ${text}\n`);
    say(messages(lang).title);
    say(messages(lang).starting("demo"));
    const { report } = await runScenario(await loadScenario("tour"), { reporter: reporter(), say, lang });
    if (opts.json) await writeFile(opts.json, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`\n${formatTimeline(report)}\n\n${formatChecksTable(report)}\n`);
    process.exitCode = reportExitCode(report);
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

installInterruptHandlers();
program.exitOverride((err) => {
  process.exit(err.exitCode === 0 ? 0 : EXIT.badInput);
});
try {
  await program.parseAsync(process.argv);
} catch (err) {
  printError(err);
  process.exitCode = exitCodeFor(err);
}
