import type { UsageEvent } from "../../protocol/llm.ts";
import type { TenantPolicy } from "../../protocol/tenants.ts";
import { usageContract } from "../../protocol/usage.ts";
import { hasCode, type WorkContext } from "../../runtime/index.ts";
import type { DayLedger } from "./day-ledger.ts";
import { budgetPeriod, fromNanoUsd, toNanoUsd, utcDay } from "./days.ts";
import type { PeriodSpend } from "./period-spend.ts";
import { totalCost, type UsageCell } from "./usage-cells.ts";
import { BUDGET_WARNINGS, keys, type BudgetWarningRecord } from "./usage-records.ts";

export const THRESHOLDS = [80, 100] as const;
const WARNING_RECORD_TTL_MS = 62 * 86_400_000;
const REMEMBERED_LIMIT = 10_000;

/**
 * Emits `events.usage.budget-warning` once per tenant, budget period and threshold. The
 * event id `${tenant}:${period}:${threshold}` makes concurrent or repeated publishes one
 * stored event (Nats-Msg-Id); the `budget_warnings` record stops later ones for good; a
 * per-process set of what was recorded saves the database a read on every event.
 */
export function createBudgetWarnings(spend: PeriodSpend) {
  const recorded = new Set<string>();
  const remember = (key: string) => {
    if (recorded.size >= REMEMBERED_LIMIT) recorded.clear();
    recorded.add(key);
  };

  async function emit(context: WorkContext, warning: { period: string; threshold: number; spentUsd: number; budgetUsd: number }, key: string): Promise<void> {
    const records = context.store.collection<BudgetWarningRecord>(BUDGET_WARNINGS);
    const recordKey = keys.warning(warning.period, warning.threshold);
    if (await records.get(context.tenant, recordKey)) return remember(key);
    await context.publish(usageContract.events.budgetWarning, {
      tenant: context.tenant, threshold: warning.threshold as 80 | 100, spentUsd: warning.spentUsd, budgetUsd: warning.budgetUsd, period: warning.period,
    }, { eventId: key });
    const at = new Date();
    try {
      await records.insert(context.tenant, recordKey, { ...warning, at, expiresAt: new Date(at.getTime() + WARNING_RECORD_TTL_MS) });
    } catch (error) {
      if (!hasCode(error, "CONFLICT")) throw error;
    }
    context.log.info({ period: warning.period, threshold: warning.threshold }, "budget warning emitted");
    remember(key);
  }

  return {
    /**
     * After an event with a cost was counted: warn about every threshold the period's spend has
     * reached. `dayCells` is the event's day through the batch that counted it, when known.
     */
    async check(context: WorkContext, ledger: DayLedger, policy: TenantPolicy, event: UsageEvent, dayCells?: UsageCell[]): Promise<void> {
      if (event.costUsd <= 0) return;
      const period = budgetPeriod(event.at, policy.budget.period);
      const open = THRESHOLDS.filter((threshold) => !recorded.has(`${context.tenant}:${period}:${threshold}`));
      if (open.length === 0) return;
      const known = dayCells && { day: utcDay(event.at), costNanoUsd: totalCost(dayCells) };
      const spent = await spend.spentNanoUsd(ledger, context.tenant, period, known);
      const budgetNano = toNanoUsd(policy.budget.amountUsd);
      for (const threshold of open) {
        if (spent * 100 < budgetNano * threshold) continue;
        await emit(context, { period, threshold, spentUsd: fromNanoUsd(spent), budgetUsd: policy.budget.amountUsd }, `${context.tenant}:${period}:${threshold}`);
      }
    },
  };
}
