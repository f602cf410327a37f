/**
 * What every checker returns, and the wrapper that keeps a crashing checker from passing.
 *
 * A checker is a pure function of the finished history (Jepsen's `check`): it never reads a clock,
 * a container or a file. It has three outcomes — `pass`, `fail`, `unknown` — and `unknown` is what a
 * checker says when the history cannot decide (the fault it anchors on is missing, the client sent
 * no requests) and what `runCheck` says for it when it throws. Nothing ever turns into a silent pass.
 */
import type { Op } from "../history/ops.ts";

export type Verdict = "pass" | "fail" | "unknown";

export type CheckUnit = "ms" | "count" | "node" | "ratio";

export interface CheckResult {
  /** Stable, human-readable name, e.g. `migration-time(10.213.0.100 → lb2)`. */
  name: string;
  verdict: Verdict;
  /** The figure the verdict rests on; `null` when there is none (the VIP never moved, the check crashed). */
  measured: number | string | null;
  /** What a pass looks like, in words, with the formula when the expectation comes from the protocol. */
  expected: string;
  unit?: CheckUnit;
  /** Why, in one or two sentences: the events the figure was taken from, or the error. */
  detail?: string;
}

/** A checker bound to its options: give it the finished history, get a verdict. */
export type Checker = (ops: readonly Op[]) => CheckResult;

/** What a checker body returns; `runCheck` adds the name. */
export type CheckOutcome = Omit<CheckResult, "name">;

/**
 * The history cannot decide the check (a precondition is missing). Throw it from a checker body to
 * get verdict `unknown` with this message as the detail.
 */
export class Inconclusive extends Error {
  constructor(message: string) {
    super(message);
    this.name = "Inconclusive";
  }
}

export interface RunCheckOptions {
  /** Used for `expected` when the body throws before it could say (so the report still tells what was asked). */
  expected?: string;
  unit?: CheckUnit;
}

/**
 * Runs a checker body. A thrown `Inconclusive` becomes `unknown` with its message; any other thrown
 * error becomes `unknown` with "checker crashed: …". A body that returns a non-finite number or an
 * unknown verdict is treated as crashed too, so a NaN can never read as a pass.
 */
export function runCheck(name: string, fn: () => CheckOutcome, options: RunCheckOptions = {}): CheckResult {
  const unknown = (detail: string): CheckResult => ({
    name,
    verdict: "unknown",
    measured: null,
    expected: options.expected ?? "",
    ...(options.unit ? { unit: options.unit } : {}),
    detail,
  });
  let out: CheckOutcome;
  try {
    out = fn();
  } catch (err) {
    if (err instanceof Inconclusive) return unknown(err.message);
    return unknown(`checker crashed: ${describeError(err)}`);
  }
  if (out === null || typeof out !== "object") {
    return unknown(`checker crashed: it returned ${String(out)} instead of a result`);
  }
  if (out.verdict !== "pass" && out.verdict !== "fail" && out.verdict !== "unknown") {
    return unknown(`checker crashed: verdict must be "pass", "fail" or "unknown", got ${JSON.stringify(out.verdict)}`);
  }
  if (typeof out.measured === "number" && !Number.isFinite(out.measured)) {
    return unknown(`checker crashed: measured must be a finite number, got ${out.measured}`);
  }
  return { name, ...out };
}

function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
