/** UTC days and budget periods as strings that sort in time order. */

export function utcDay(at: Date | string): string {
  return new Date(at).toISOString().slice(0, 10);
}

/** YYYY-MM-DD for daily budgets, YYYY-MM for monthly ones. */
export function budgetPeriod(at: Date | string, period: "day" | "month"): string {
  const day = utcDay(at);
  return period === "day" ? day : day.slice(0, 7);
}

/** The first and last day of a period, inclusive (day strings compare correctly as text). */
export function daysOfPeriod(period: string): { first: string; last: string } {
  return period.length === 10 ? { first: period, last: period } : { first: `${period}-01`, last: `${period}-31` };
}

// Dollars as whole nano-dollars, so sums of many small costs stay exact (the protocol's arithmetic).
export { nanoUsd as toNanoUsd, usdFromNano as fromNanoUsd } from "../../protocol/money.ts";
