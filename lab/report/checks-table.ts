/** The checks of a report as a plain-text table (CLI output, test logs). */
import type { Report } from "./report.ts";

export function formatChecksTable(report: Report): string {
  const rows = report.checks.map((c) => [c.verdict.toUpperCase(), c.name, formatMeasured(c.measured, c.unit), c.expected]);
  const widths = [4, Math.max(5, ...rows.map((r) => r[1]!.length)), Math.max(8, ...rows.map((r) => r[2]!.length))];
  // A check that did not pass says why under its row (its detail: what was seen, e.g. when a client switched).
  const lines = rows.flatMap((r, i) => {
    const c = report.checks[i]!;
    const row = `${r[0]!.padEnd(widths[0]!)}  ${r[1]!.padEnd(widths[1]!)}  ${r[2]!.padEnd(widths[2]!)}  ${r[3]}`;
    return c.verdict !== "pass" && c.detail ? [row, `${" ".repeat(widths[0]! + 2)}why: ${c.detail}`] : [row];
  });
  const figures = Object.entries(report.figures)
    .map(([k, v]) => `${k}=${v === null ? "n/a" : v}`)
    .join("  ");
  return [`${report.scenario}: ${report.verdict.toUpperCase()}`, ...lines, `figures: ${figures}`].join("\n");
}

function formatMeasured(value: number | string | null, unit: string | undefined): string {
  if (value === null) return "n/a";
  if (typeof value === "number" && unit === "ms") return `${value.toFixed(1)} ms`;
  return String(value);
}
