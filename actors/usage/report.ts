import type { UsageQuery, UsageReport, UsageRow } from "../../protocol/usage.ts";
import { MAX_REPORT_DAYS } from "../../protocol/usage.ts";
import { MeshError, type WorkContext } from "../../runtime/index.ts";
import { fromNanoUsd, utcDay } from "./days.ts";
import { COUNTER_NAMES, USAGE_DAILY, type DailyUsage, type UsageCounters } from "./usage-records.ts";

const DAY_MS = 86_400_000;

function emptyCounters(): UsageCounters {
  return { requests: 0, promptTokens: 0, completionTokens: 0, costNanoUsd: 0, cacheHits: 0, errors: 0, rejected: 0 };
}

function add(into: UsageCounters, doc: DailyUsage): void {
  for (const name of COUNTER_NAMES) into[name] += doc[name] ?? 0;
}

function toRow(key: string, counters: UsageCounters): UsageRow {
  const { costNanoUsd, ...rest } = counters;
  return { key, ...rest, costUsd: fromNanoUsd(costNanoUsd) };
}

/** The day range asked for; a missing end is today, a missing start is the end. */
export function reportRange(query: UsageQuery, today = utcDay(new Date())): { from: string; to: string } {
  const to = query.to ?? (query.from !== undefined && query.from > today ? query.from : today);
  const from = query.from ?? to;
  if (from > to) throw new MeshError("BAD_REQUEST", "from must not be after to");
  if ((Date.parse(to) - Date.parse(from)) / DAY_MS >= MAX_REPORT_DAYS) throw new MeshError("BAD_REQUEST", `a report covers at most ${MAX_REPORT_DAYS} days`);
  return { from, to };
}

/**
 * usage.report: the daily buckets of the range, summed in code (FerretDB computes one
 * accumulator per $group, and a range holds at most days x services x models buckets).
 */
export async function reportUsage(query: UsageQuery, context: WorkContext): Promise<UsageReport> {
  const { from, to } = reportRange(query);
  const buckets = await context.store.collection<DailyUsage>(USAGE_DAILY).find(context.tenant, { day: { $gte: from, $lte: to } });
  const total = emptyCounters();
  const rows = new Map<string, UsageCounters>();
  for (const bucket of buckets) {
    add(total, bucket);
    const key = bucket[query.groupBy];
    let row = rows.get(key);
    if (!row) rows.set(key, row = emptyCounters());
    add(row, bucket);
  }
  return {
    tenant: context.tenant,
    from,
    to,
    total: toRow("total", total),
    rows: [...rows.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([key, counters]) => toRow(key, counters)),
  };
}
