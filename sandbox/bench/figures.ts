/**
 * Single figures against a baseline of the same run, where throughput and latency do not apply
 * (resident memory, start-up time): one table row and one `bench.json` entry each.
 */
import { formatGrid, type BenchEntry } from "./report.ts";
import { ratio } from "./stats.ts";

export interface Figure {
  readonly scenario: string;
  readonly name: string;
  readonly unit: string;
  readonly value: number;
  readonly baseline: string;
  readonly baselineValue: number;
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

export function figureEntries(figures: readonly Figure[]): BenchEntry[] {
  return figures.map((figure) => {
    const quotient = ratio(figure.value, figure.baselineValue);
    return {
      name: figure.name,
      unit: figure.unit,
      value: round(figure.value, 1),
      baseline: figure.baseline,
      baseline_value: round(figure.baselineValue, 1),
      ratio: Number.isFinite(quotient) ? round(quotient, 3) : null,
    };
  });
}

export function formatFigures(figures: readonly Figure[]): string {
  const format = (value: number) => (Number.isFinite(value) ? value.toLocaleString("en-US", { maximumFractionDigits: 1, minimumFractionDigits: 1 }) : "-");
  const rows = figures.map((figure) => {
    const quotient = ratio(figure.value, figure.baselineValue);
    return [`${figure.scenario} ${figure.name}`, figure.unit, format(figure.value), `${figure.baseline}: ${format(figure.baselineValue)}`, Number.isFinite(quotient) ? `${quotient.toFixed(2)}x` : "-"];
  });
  return formatGrid(["figure", "unit", "value", "baseline in the same run", "ratio"], rows);
}
