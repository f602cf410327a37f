/**
 * A status line at the bottom of a terminal, redrawn in place (`\r`, erase line). Everything else
 * printed meanwhile goes through `print`, which clears the line, writes, and draws it again, so the
 * status never tears other output. Only for a TTY: on anything else it prints nothing extra.
 */
import type { Lab } from "../lab.ts";
import { formatStatusLine, LiveState } from "./live-state.ts";

export interface TerminalStream {
  write(text: string): boolean;
  isTTY?: boolean;
  columns?: number;
}

export class StatusLine {
  private readonly tty: TerminalStream;
  private text = "";
  private shown = false;

  constructor(tty: TerminalStream) {
    this.tty = tty;
  }

  /** Width of the terminal. */
  get columns(): number {
    return this.tty.columns || 120; // a pseudo-terminal without a size says 0
  }

  get active(): boolean {
    return this.tty.isTTY === true;
  }

  /** Replace the status text. */
  set(text: string): void {
    this.text = text;
    this.draw();
  }

  /** Write `text` to `stream` (this terminal or another one on the same screen) without tearing the status. */
  print(stream: TerminalStream, text: string): void {
    this.erase();
    stream.write(text);
    this.draw();
  }

  /** Remove the line for good. */
  clear(): void {
    this.erase();
    this.text = "";
  }

  private draw(): void {
    if (!this.active || !this.text) return;
    this.tty.write(`\r\x1b[2K${this.text}`);
    this.shown = true;
  }

  private erase(): void {
    if (!this.shown) return;
    this.tty.write("\r\x1b[2K");
    this.shown = false;
  }
}

/**
 * Show a lab's live state on a status line, redrawn every `intervalMs` from `history.subscribe`.
 * Returns a function that stops and clears it.
 */
export function showLabStatus(lab: Lab, line: StatusLine, intervalMs = 250): () => void {
  const state = new LiveState([...lab.topology.lbs, ...lab.topology.directors].map((n) => n.name), lab.topology.vrrp.instances.flatMap((i) => i.vips));
  for (const op of lab.history.ops()) state.apply(op);
  const unsubscribe = lab.history.subscribe((op) => state.apply(op));
  const timer = setInterval(() => line.set(formatStatusLine(state.snapshot(lab.clock.nowMs()), Math.max(40, line.columns - 1))), intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    unsubscribe();
    line.clear();
  };
}
