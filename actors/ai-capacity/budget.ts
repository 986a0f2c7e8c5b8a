import type { TenantPolicy } from "../../protocol/tenants.ts";
import { hasCode, type TenantCollection } from "../../runtime/index.ts";

/**
 * A tenant's spending in one budget period, in nano-dollars. `committedNanoUsd` is kept equal to
 * spent + reserved by every write, so the budget check is a plain range filter (FerretDB has no
 * `$expr`) on one document: concurrent reservations can never commit more than the budget.
 */
export interface BudgetDoc {
  _id: string;
  tenant?: string;
  period: string;
  spentNanoUsd: number;
  reservedNanoUsd: number;
  committedNanoUsd: number;
}

/** The UTC period key: "2026-11-27" for a daily budget, "2026-11" for a monthly one. */
export function periodKey(period: TenantPolicy["budget"]["period"], now: number): string {
  const iso = new Date(now).toISOString();
  return period === "day" ? iso.slice(0, 10) : iso.slice(0, 7);
}

function budgetId(tenant: string, period: string): string {
  return `${tenant}/${period}`;
}

/** Reserves `amount` if spent + reserved + amount stays within `limit`; false means over budget. */
export async function reserveBudget(budgets: TenantCollection<BudgetDoc>, tenant: string, period: string, amount: number, limit: number): Promise<boolean> {
  if (amount > limit) return false;
  const reserve = () => budgets.updateOne(tenant, { _id: budgetId(tenant, period), committedNanoUsd: { $lte: limit - amount } }, {
    $inc: { reservedNanoUsd: amount, committedNanoUsd: amount },
  });
  if ((await reserve()).matched > 0) return true;
  await ensureBudget(budgets, tenant, period);
  return (await reserve()).matched > 0;
}

/**
 * Books a finished lease: `charge` becomes spent and `release` leaves the reservation. Not
 * conditional: the money was spent, so overage beyond the estimate is charged too.
 */
export async function chargeBudget(budgets: TenantCollection<BudgetDoc>, tenant: string, period: string, charge: number, release: number): Promise<void> {
  if (charge === 0 && release === 0) return;
  await ensureBudget(budgets, tenant, period);
  await budgets.updateOne(tenant, { _id: budgetId(tenant, period) }, {
    $inc: { spentNanoUsd: charge, reservedNanoUsd: -release, committedNanoUsd: charge - release },
  });
}

export async function readBudget(budgets: TenantCollection<BudgetDoc>, tenant: string, period: string): Promise<BudgetDoc> {
  const found = await budgets.findOne(tenant, { _id: budgetId(tenant, period) });
  return found ?? { _id: budgetId(tenant, period), period, spentNanoUsd: 0, reservedNanoUsd: 0, committedNanoUsd: 0 };
}

async function ensureBudget(budgets: TenantCollection<BudgetDoc>, tenant: string, period: string): Promise<void> {
  try {
    await budgets.updateOne(tenant, { _id: budgetId(tenant, period) }, {
      $setOnInsert: { period, spentNanoUsd: 0, reservedNanoUsd: 0, committedNanoUsd: 0 },
    }, { upsert: true });
  } catch (error) {
    // Two replicas created it at once; the loser's duplicate key means it exists now.
    if (!hasCode(error, "CONFLICT")) throw error;
  }
}
