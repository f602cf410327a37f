/**
 * Exit codes and the one place that turns an error into a message for the user.
 *   0 every check passed · 1 a check failed · 2 bad input or a broken environment · 130/143 interrupted
 */
import { errorMessage, InterruptedError, LabError } from "../errors.ts";

export const EXIT = { ok: 0, checkFailed: 1, badInput: 2 } as const;

/** Any error that stops a command is exit 2 (bad input, broken environment, or a lab that could not run). */
export function exitCodeFor(err: unknown): number {
  if (err instanceof InterruptedError) return err.signal === "SIGTERM" ? 143 : 130;
  return EXIT.badInput;
}

/** Print an error the way a user should see it: message and remedy; a stack only with DEBUG. */
export function printError(err: unknown): void {
  process.stderr.write(`failover-lab: ${errorMessage(err)}\n`);
  if (!(err instanceof LabError) || process.env.DEBUG) {
    if (err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  }
  let cause = (err as { cause?: unknown })?.cause;
  while (cause && process.env.DEBUG) {
    process.stderr.write(`caused by: ${cause instanceof Error ? cause.stack : String(cause)}\n`);
    cause = (cause as { cause?: unknown }).cause;
  }
}
