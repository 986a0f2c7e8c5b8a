import type { UsageQuery, UsageReport, UsageRow } from "../../protocol/usage.ts";
import { MAX_REPORT_DAYS } from "../../protocol/usage.ts";
import { MeshError, type WorkContext } from "../../runtime/index.ts";
import { fromNanoUsd, utcDay } from "./days.ts";
import { COUNTER_NAMES, USAGE_RECORDS, type UsageCounters, type UsageRecord } from "./usage-records.ts";

const DAY_MS = 86_400_000;

function emptyCounters(): UsageCounters {
  return { requests: 0, promptTokens: 0, completionTokens: 0, costNanoUsd: 0, cacheHits: 0, errors: 0, rejected: 0 };
}

function toRow(key: string, counters: UsageCounters): UsageRow {
  const { costNanoUsd, ...rest } = counters;
  return { key, ...rest, costUsd: fromNanoUsd(costNanoUsd) };
}

/** The day range asked for; a missing end is today (or the start, if later), a missing start is the end. */
export function reportRange(query: UsageQuery, today = utcDay(new Date())): { from: string; to: string } {
  const to = query.to ?? (query.from !== undefined && query.from > today ? query.from : today);
  const from = query.from ?? to;
  if (from > to) throw new MeshError("BAD_REQUEST", "from must not be after to");
  if ((Date.parse(to) - Date.parse(from)) / DAY_MS >= MAX_REPORT_DAYS) throw new MeshError("BAD_REQUEST", `a report covers at most ${MAX_REPORT_DAYS} days`);
  return { from, to };
}

/**
 * usage.report: the range's usage records grouped in the database, one pipeline per counter
 * (FerretDB computes only the first accumulator of a $group), merged into rows in code.
 */
export async function reportUsage(query: UsageQuery, context: WorkContext): Promise<UsageReport> {
  const { from, to } = reportRange(query);
  const records = context.store.collection<UsageRecord>(USAGE_RECORDS);
  const sums = await Promise.all(COUNTER_NAMES.map((counter) => records.aggregate<{ _id: string; value: number }>(context.tenant, [
    { $match: { day: { $gte: from, $lte: to } } },
    { $group: { _id: `$${query.groupBy}`, value: { $sum: `$${counter}` } } },
  ])));
  const rows = new Map<string, UsageCounters>();
  const total = emptyCounters();
  COUNTER_NAMES.forEach((counter, index) => {
    for (const { _id: key, value } of sums[index] ?? []) {
      let row = rows.get(key);
      if (!row) rows.set(key, row = emptyCounters());
      row[counter] += value;
      total[counter] += value;
    }
  });
  return {
    tenant: context.tenant,
    from,
    to,
    total: toRow("total", total),
    rows: [...rows.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([key, counters]) => toRow(key, counters)),
  };
}
