/**
 * Topology files (`*.lab.yml`): YAML parsed with line tracking, so every problem names its line.
 * The file is data only: nothing in it is executed or used as a path outside its own folder.
 */
import { readFile, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { isMap, isScalar, LineCounter, parseDocument, type Document } from "yaml";
import { TopologyError } from "../errors.ts";
import type { Topology } from "./schema.ts";
import { validateTopology } from "./validate.ts";

export const MAX_TOPOLOGY_BYTES = 256 * 1024;

export interface LoadedTopology {
  topology: Topology;
  /** Absolute path of the file. */
  file: string;
  /** Folder the file's relative paths are resolved against. */
  dir: string;
}

export async function loadTopologyFile(path: string): Promise<LoadedTopology> {
  const file = resolve(path);
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch {
    throw new TopologyError([{ path: "(file)", message: `cannot read ${path}: no such file`, fix: "check the path" }]);
  }
  if (size > MAX_TOPOLOGY_BYTES) {
    throw new TopologyError([{ path: "(file)", message: `is ${size} bytes; a topology is at most ${MAX_TOPOLOGY_BYTES}`, file: path }]);
  }
  const text = await readFile(file, "utf8");
  return { topology: parseTopologyYaml(text, path), file, dir: dirname(file) };
}

/** Parse YAML text into a validated topology; `source` names it in messages. */
export function parseTopologyYaml(text: string, source = "topology.lab.yml"): Topology {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new TopologyError(
      doc.errors.map((e) => ({
        path: "(yaml)",
        message: e.message.split("\n")[0]!,
        file: source,
        line: e.linePos?.[0]?.line,
      })),
      source,
    );
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 50 });
  } catch (err) {
    throw new TopologyError([{ path: "(yaml)", message: (err as Error).message, file: source }], source);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TopologyError([{ path: "(file)", message: "must be a YAML mapping (name:, lb:, web:, …)", file: source, line: 1 }], source);
  }
  return validateTopology(value, { source, lineOf: (path) => lineOf(doc, lineCounter, path) });
}

/** Line of the deepest node of `path` that exists (the key itself when it is an unknown field). */
function lineOf(doc: Document, lc: LineCounter, path: readonly PropertyKey[]): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const parentPath = path.slice(0, Math.max(0, n - 1));
    const parent = n === 0 ? doc.contents : doc.getIn(parentPath, true);
    if (n > 0 && isMap(parent)) {
      const key = path[n - 1];
      const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === String(key));
      const range = (pair?.key as { range?: [number, number, number] } | undefined)?.range;
      if (range) return lc.linePos(range[0]).line;
    }
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (range) return lc.linePos(range[0]).line;
  }
  return undefined;
}
