/**
 * Before the integration suites: the engine must answer, leftovers of killed runs are reaped, and
 * every image is built (with its progress on the console) so no test pays for a build.
 */
import { ConsoleReporter } from "../lab/report/reporter.ts";
import { reapOrphans } from "../lab/runtime/cleanup.ts";
import { connectEngine } from "../lab/runtime/engine.ts";
import { ImageBuilder } from "../lab/runtime/images.ts";

export default async function setup(): Promise<void> {
  const reporter = new ConsoleReporter({ stream: process.stdout });
  const engine = await connectEngine();
  reporter.step(`Engine: Docker ${engine.version} at ${engine.endpoint}`);
  for (const r of await reapOrphans(engine.docker)) {
    reporter.info(`Reaped leftovers of run ${r.run} (lab ${r.lab}): ${r.containers.length} container(s)`);
  }
  await new ImageBuilder(engine.docker, reporter).ensureAll();
}
