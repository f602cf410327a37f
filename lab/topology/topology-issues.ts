/** What `validateTopology` finds wrong with an input, as a list (empty when it is valid), instead of a thrown error. */
import { TopologyError, type TopologyIssue } from "../errors.ts";
import { validateTopology } from "./validate.ts";

export function topologyIssues(input: unknown): TopologyIssue[] {
  try {
    validateTopology(input);
  } catch (err) {
    if (err instanceof TopologyError) return err.issues;
    throw err;
  }
  return [];
}
