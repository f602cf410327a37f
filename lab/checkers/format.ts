/** How checkers write figures into `detail` and `expected`, and how the report rounds times. */

/** Rounds to 0.1 ms, the report's resolution. -0 becomes 0. */
export function round1(x: number): number {
  return Math.round(x * 10) / 10 + 0;
}

/** "1234.5 ms". */
export function ms(x: number): string {
  return `${round1(x).toFixed(1)} ms`;
}

/** How many items a detail lists before it says "and N more". */
export const LIST_LIMIT = 5;

/** "a; b; c; and 2 more". */
export function list(items: readonly string[]): string {
  const shown = items.slice(0, LIST_LIMIT).join("; ");
  return items.length > LIST_LIMIT ? `${shown}; and ${items.length - LIST_LIMIT} more` : shown;
}

export function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
