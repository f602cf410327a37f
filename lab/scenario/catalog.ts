/** The scenarios shipped in scenarios/, found by name, or a scenario file given by path. */
import { readdir } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { LabError } from "../errors.ts";
import type { Scenario } from "./define.ts";

export const SCENARIOS_DIR = fileURLToPath(new URL("../../scenarios/", import.meta.url));

export async function scenarioNames(): Promise<string[]> {
  return (await readdir(SCENARIOS_DIR)).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts")).map((f) => basename(f, ".ts")).sort();
}

export async function loadScenario(nameOrPath: string): Promise<Scenario> {
  const names = await scenarioNames();
  const file = names.includes(nameOrPath) ? join(SCENARIOS_DIR, `${nameOrPath}.ts`) : nameOrPath.endsWith(".ts") ? resolve(nameOrPath) : undefined;
  if (!file) throw new LabError(`There is no scenario "${nameOrPath}". Scenarios: ${names.join(", ")}`, { remedy: "Give one of those names, or the path of a scenario .ts file." });
  let mod: { default?: Scenario };
  try {
    mod = (await import(pathToFileURL(file).href)) as { default?: Scenario };
  } catch (err) {
    throw new LabError(`Could not load scenario ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (!mod.default || typeof mod.default.run !== "function") throw new LabError(`${file} does not export a scenario (export default defineScenario({...}))`);
  return mod.default;
}
