/**
 * The command line: each command parses its flags and calls the library; nothing else lives here.
 */
import { Command } from "commander";
import { formatChecks, runDoctor } from "../doctor/doctor.ts";
import { ConsoleReporter, silentReporter } from "../report/reporter.ts";
import { removeResources } from "../runtime/cleanup.ts";
import { connectEngine } from "../runtime/engine.ts";
import { ImageBuilder, pruneImages } from "../runtime/images.ts";
import { EXIT, exitCodeFor, printError } from "./exit.ts";
import { installInterruptHandlers, setActivity } from "./interrupt.ts";

const program = new Command("failover-lab")
  .description("Failover lab for nginx + keepalived (VRRP): real daemons in Docker, faults, measured failover.")
  .option("-q, --quiet", "print only results")
  .option("-v, --verbose", "show build output and other details")
  .showHelpAfterError();

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
