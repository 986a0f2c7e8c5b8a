import pLimit from "p-limit";
import type { UsageQuery, UsageReport, UsageRow } from "../../protocol/usage.ts";
import { MAX_REPORT_DAYS } from "../../protocol/usage.ts";
import { MeshError, type WorkContext } from "../../runtime/index.ts";
import type { DayLedger } from "./day-ledger.ts";
import { fromNanoUsd, utcDay } from "./days.ts";
import { addCounters, emptyCounters, type UsageCell, type UsageCounters } from "./usage-cells.ts";

const DAY_MS = 86_400_000;
/** Days read at once by one report: a year's report must not crowd out the consumer's writes. */
const DAYS_IN_PARALLEL = 8;

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

/** Rows keyed by service, model or day, sorted by key, and their total. Pure. */
export function reportRows(days: readonly { day: string; cells: readonly UsageCell[] }[], groupBy: UsageQuery["groupBy"]): { total: UsageRow; rows: UsageRow[] } {
  const rows = new Map<string, UsageCounters>();
  const total = emptyCounters();
  for (const { day, cells } of days) {
    for (const cell of cells) {
      const key = groupBy === "day" ? day : groupBy === "service" ? cell.service : cell.model;
      let row = rows.get(key);
      if (!row) rows.set(key, row = emptyCounters());
      addCounters(row, cell);
      addCounters(total, cell);
    }
  }
  return {
    total: toRow("total", total),
    rows: [...rows.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([key, counters]) => toRow(key, counters)),
  };
}

/** usage.report: each day of the range read from its day ledger (a few point reads a day, whatever the history). */
export function createReportUsage(ledgerOf: (context: WorkContext) => DayLedger) {
  return async function reportUsage(query: UsageQuery, context: WorkContext): Promise<UsageReport> {
    const { from, to } = reportRange(query);
    const ledger = ledgerOf(context);
    const limit = pLimit(DAYS_IN_PARALLEL);
    const dayList: string[] = [];
    for (let day = from; day <= to; day = utcDay(new Date(Date.parse(day) + DAY_MS))) dayList.push(day);
    const days = await Promise.all(dayList.map((day) => limit(async () => ({ day, cells: await ledger.read(context.tenant, day) }))));
    return { tenant: context.tenant, from, to, ...reportRows(days, query.groupBy) };
  };
}
