/**
 * The library never prints: it tells a Reporter, and the caller chooses which one.
 * The CLI uses the console reporter; tests and `--quiet` use the silent one.
 */
export interface Reporter {
  /** A step of a long operation (image build, start-up, fault injection). */
  step(message: string): void;
  /** A detail line under the current step (e.g. build output); may be dropped by terse reporters. */
  detail(message: string): void;
  info(message: string): void;
  warn(message: string): void;
}

export const silentReporter: Reporter = {
  step() {},
  detail() {},
  info() {},
  warn() {},
};

export interface ConsoleReporterOptions {
  /** Show detail lines (build output). */
  verbose?: boolean;
  stream?: NodeJS.WritableStream;
  /** A live status line on the same screen: lines are printed around it (see live/status-line.ts). */
  status?: { print(stream: NodeJS.WritableStream, text: string): void };
}

export class ConsoleReporter implements Reporter {
  private readonly verbose: boolean;
  private readonly stream: NodeJS.WritableStream;
  private readonly status: ConsoleReporterOptions["status"];
  private readonly origin = process.hrtime.bigint();

  constructor(options: ConsoleReporterOptions = {}) {
    this.verbose = options.verbose ?? false;
    this.stream = options.stream ?? process.stderr;
    this.status = options.status;
  }

  private readonly out = {
    write: (text: string) => (this.status ? this.status.print(this.stream, text) : this.stream.write(text)),
  };

  private stamp(): string {
    const s = Number(process.hrtime.bigint() - this.origin) / 1e9;
    return `[${s.toFixed(1).padStart(6)}s]`;
  }

  step(message: string): void {
    this.out.write(`${this.stamp()} ${message}\n`);
  }
  detail(message: string): void {
    if (this.verbose) this.out.write(`${this.stamp()}     ${message}\n`);
  }
  info(message: string): void {
    this.out.write(`${this.stamp()} ${message}\n`);
  }
  warn(message: string): void {
    this.out.write(`${this.stamp()} warning: ${message}\n`);
  }
}

/** Collects everything; for tests that assert on what a user would see. */
export class MemoryReporter implements Reporter {
  readonly lines: string[] = [];
  step(m: string): void {
    this.lines.push(`step: ${m}`);
  }
  detail(m: string): void {
    this.lines.push(`detail: ${m}`);
  }
  info(m: string): void {
    this.lines.push(`info: ${m}`);
  }
  warn(m: string): void {
    this.lines.push(`warn: ${m}`);
  }
}
