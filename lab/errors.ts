/**
 * Every error the lab raises on purpose. Each one says what went wrong and what to do about it;
 * the CLI maps them to exit codes (2 for bad input or a broken environment).
 */

export interface LabErrorOptions {
  /** What the user should do next, in one sentence. */
  remedy?: string;
  cause?: unknown;
}

export class LabError extends Error {
  readonly remedy: string | undefined;

  constructor(message: string, options: LabErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.remedy = options.remedy;
  }

  /** Message plus remedy, as printed by the CLI. */
  describe(): string {
    return this.remedy ? `${this.message}\n  → ${this.remedy}` : this.message;
  }
}

/** One problem in a topology file or object, located by its field path. */
export interface TopologyIssue {
  /** Dotted path of the offending field, e.g. `vrrp.VI_1.nodes.lb1.priority`. */
  path: string;
  message: string;
  /** How to fix it. */
  fix?: string;
  /** Source file and line, when the topology came from YAML or a bring-your-own config. */
  file?: string;
  line?: number;
}

/** The topology (or a bring-your-own config) is invalid; nothing was started. */
export class TopologyError extends LabError {
  readonly issues: TopologyIssue[];

  constructor(issues: TopologyIssue[], source?: string) {
    const where = source ? ` in ${source}` : "";
    super(
      `Invalid topology${where}: ${issues.length} problem${issues.length === 1 ? "" : "s"}\n` +
        issues.map((i) => `  - ${formatIssue(i)}`).join("\n"),
      { remedy: "Fix the fields named above; no container was started." },
    );
    this.issues = issues;
  }
}

export function formatIssue(issue: TopologyIssue): string {
  const loc = issue.file ? `${issue.file}${issue.line ? `:${issue.line}` : ""}: ` : "";
  const fix = issue.fix ? ` (fix: ${issue.fix})` : "";
  return `${loc}${issue.path}: ${issue.message}${fix}`;
}

/** The machine cannot run the lab: no engine, missing tool, refused capability, failed build. */
export class EnvironmentError extends LabError {}

/** A command (in a container or on the host) exited non-zero. */
export class CommandError extends LabError {
  readonly command: string[];
  readonly exitCode: number | null;
  readonly output: string;

  constructor(
    what: string,
    command: string[],
    exitCode: number | null,
    output: string,
    options: LabErrorOptions = {},
  ) {
    const tail = output.trim().split("\n").slice(-15).join("\n");
    super(
      `${what}: \`${command.join(" ")}\` exited with ${exitCode ?? "a signal"}${tail ? `\n${indent(tail)}` : ""}`,
      options,
    );
    this.command = command;
    this.exitCode = exitCode;
    this.output = output;
  }
}

/** A wait ran out of time. The message names what was awaited. */
export class WaitTimeoutError extends LabError {
  constructor(what: string, timeoutMs: number, options: LabErrorOptions = {}) {
    super(`Timed out after ${timeoutMs} ms waiting for ${what}`, options);
  }
}

/** The run was interrupted by a signal; clean-up has happened. */
export class InterruptedError extends LabError {
  readonly signal: string;
  constructor(signal: string, during: string) {
    super(`Interrupted by ${signal} during ${during}; the lab's containers and networks were removed`);
    this.signal = signal;
  }
}

export function indent(text: string, prefix = "    "): string {
  return text
    .split("\n")
    .map((l) => prefix + l)
    .join("\n");
}

export function errorMessage(err: unknown): string {
  if (err instanceof LabError) return err.describe();
  if (err instanceof Error) return err.message;
  return String(err);
}
