/**
 * A tenant's spend in a budget period, summed from its day ledgers (a few point reads a day).
 * Days before today change only by late events, so their totals are reused for `closedDayMs`;
 * budget warnings are advisory (ai-capacity enforces the budget), so that staleness is fine.
 * Concurrent asks for one tenant and period share one computation that starts after the last
 * ask, so a burst of events costs one read of the ledgers, not one per event.
 */
import type { DayLedger } from "./day-ledger.ts";
import { daysOfPeriod, utcDay } from "./days.ts";
import { totalCost } from "./usage-cells.ts";

const MAX_CLOSED_DAYS = 50_000;

export interface PeriodSpend {
  /**
   * Spend in nano-dollars over the period's days, reading at least every event applied before
   * the call. `known` is one day's total the caller already holds (the slot it just committed):
   * that day is not read.
   */
  spentNanoUsd(ledger: DayLedger, tenant: string, period: string, known?: { day: string; costNanoUsd: number }): Promise<number>;
}

export function createPeriodSpend(options: { closedDayMs: number; now?: () => number }): PeriodSpend {
  const now = options.now ?? Date.now;
  const closedDays = new Map<string, { cost: number; until: number }>();
  const running = new Map<string, Promise<number>>();
  const queued = new Map<string, Promise<number>>();

  async function dayCost(ledger: DayLedger, tenant: string, day: string, today: string): Promise<number> {
    const key = `${tenant}/${day}`;
    const cached = closedDays.get(key);
    if (day < today && cached && cached.until > now()) return cached.cost;
    const cost = totalCost(await ledger.read(tenant, day));
    if (day < today) {
      if (closedDays.size >= MAX_CLOSED_DAYS) closedDays.clear();
      closedDays.set(key, { cost, until: now() + options.closedDayMs });
    }
    return cost;
  }

  async function compute(ledger: DayLedger, tenant: string, period: string, known?: { day: string; costNanoUsd: number }): Promise<number> {
    const today = utcDay(new Date(now()));
    // Tomorrow too: an event stamped by a producer whose clock runs ahead.
    const latest = nextDay(today);
    const { first, last } = daysOfPeriod(period);
    const days: string[] = [];
    for (let day = first; day <= last && day <= latest; day = nextDay(day)) days.push(day);
    const costs = await Promise.all(days.map((day) => (day === known?.day ? known.costNanoUsd : dayCost(ledger, tenant, day, today))));
    return costs.reduce((sum, cost) => sum + cost, 0);
  }

  return {
    spentNanoUsd(ledger, tenant, period, known) {
      // A day total in hand: the other days come from the cache, so no coalescing is needed.
      if (known) return compute(ledger, tenant, period, known);
      const key = `${tenant}/${period}`;
      const waiting = queued.get(key);
      if (waiting) return waiting;
      const before = running.get(key) ?? Promise.resolve(0);
      const next = before.catch(() => 0).then(() => {
        queued.delete(key);
        const started = compute(ledger, tenant, period);
        running.set(key, started);
        return started.finally(() => {
          if (running.get(key) === started) running.delete(key);
        });
      });
      queued.set(key, next);
      return next;
    },
  };
}

function nextDay(day: string): string {
  return utcDay(new Date(Date.parse(day) + 86_400_000));
}
