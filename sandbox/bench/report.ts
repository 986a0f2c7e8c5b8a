/** Turns measured comparisons into the printed table and the `.meshwork/bench.json` entries. */
import { ratio, type Summary } from "./stats.ts";

/** One side of a comparison: what ran, its unit of work, and its figures. */
export interface Measurement {
  /** e.g. "mesh request/reply"; figure names are built from it. */
  readonly label: string;
  /** Throughput unit, e.g. "req/s". */
  readonly unit: string;
  readonly summary: Summary;
  /** Operations that failed (they are not counted in the summary). */
  readonly errors: number;
}

/** A mesh measurement against the baseline measured in the same run on the same servers. */
export interface Comparison {
  readonly scenario: string;
  readonly subject: Measurement;
  readonly baseline: Measurement;
  /** What the latency means when it is not a plain round trip. */
  readonly latencyMeaning?: string;
  /** Figures beyond throughput and latency (e.g. a total time), written to bench.json as they are. */
  readonly extraEntries?: readonly BenchEntry[];
}

export interface BenchEntry {
  readonly name: string;
  readonly unit: string;
  readonly value: number;
  readonly baseline: string;
  readonly baseline_value: number;
  readonly ratio: number | null;
}

function rounded(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? rounded(value, 3) : null;
}

/** Three entries per comparison (throughput, p50 and p99 latency, each with its baseline), then its extra ones. */
export function benchEntries(comparisons: readonly Comparison[]): BenchEntry[] {
  return comparisons.flatMap(({ subject, baseline, extraEntries = [] }) => {
    const figure = (suffix: string, unit: string, value: number, baselineValue: number, digits: number): BenchEntry => ({
      name: `${subject.label} ${suffix}`,
      unit,
      value: rounded(value, digits),
      baseline: `${baseline.label} ${suffix}`,
      baseline_value: rounded(baselineValue, digits),
      ratio: finiteOrNull(ratio(value, baselineValue)),
    });
    return [
      figure("throughput", subject.unit, subject.summary.throughput, baseline.summary.throughput, 1),
      figure("p50 latency", "ms", subject.summary.p50Ms, baseline.summary.p50Ms, 3),
      figure("p99 latency", "ms", subject.summary.p99Ms, baseline.summary.p99Ms, 3),
      ...extraEntries,
    ];
  });
}

function formatNumber(value: number, digits: number): string {
  if (!Number.isFinite(value)) return "-";
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function formatRatio(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}x` : "-";
}

/** Left-aligns the first column, right-aligns the others. */
export function formatGrid(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("  ").trimEnd();
  const rule = widths.map((width) => "-".repeat(width)).join("  ");
  return [line(header), rule, ...rows.map(line)].join("\n");
}

const HEADER = ["measurement", "unit", "ops/s", "x base", "p50 ms", "x base", "p99 ms", "x base", "errors"] as const;

/** Two lines per comparison (baseline first, then the mesh with its ratios), plus footnotes. */
export function formatTable(comparisons: readonly Comparison[]): string {
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const { scenario, subject, baseline, latencyMeaning } of comparisons) {
    const base = baseline.summary;
    const mesh = subject.summary;
    rows.push([`${scenario} ${baseline.label} (baseline)`, baseline.unit, formatNumber(base.throughput, 0), "", formatNumber(base.p50Ms, 3), "", formatNumber(base.p99Ms, 3), "", String(baseline.errors)]);
    rows.push([
      `${scenario} ${subject.label}`, subject.unit,
      formatNumber(mesh.throughput, 0), formatRatio(ratio(mesh.throughput, base.throughput)),
      formatNumber(mesh.p50Ms, 3), formatRatio(ratio(mesh.p50Ms, base.p50Ms)),
      formatNumber(mesh.p99Ms, 3), formatRatio(ratio(mesh.p99Ms, base.p99Ms)),
      String(subject.errors),
    ]);
    if (latencyMeaning) notes.push(`${scenario} latency: ${latencyMeaning}`);
  }
  return [formatGrid(HEADER, rows), ...notes].join("\n");
}
