import type { CapacityStatus } from "../../protocol/ai-capacity.ts";
import type { WorkContext, TenantPolicyCache } from "../../runtime/index.ts";
import { tenantCapacity } from "./bucket-plan.ts";
import { levelOf, periodKey } from "./capacity-state.ts";
import { CAPACITY_KEY, ledgersOf } from "./ledgers.ts";
import { usdFromNano } from "./prices.ts";

export function createStatusHandler(policies: TenantPolicyCache) {
  return async function status(_input: unknown, context: WorkContext): Promise<CapacityStatus> {
    const policy = await policies.get(context);
    const state = await ledgersOf(context.store).capacity.read(context.tenant, CAPACITY_KEY);
    const now = Date.now();
    const period = periodKey(policy.budget.period, now);
    const budget = state.budgets.find((entry) => entry.period === period);
    const level = levelOf(state, "tenant", tenantCapacity(policy), now);
    return {
      tenant: context.tenant,
      budgetUsd: policy.budget.amountUsd,
      spentUsd: usdFromNano(budget?.spentNanoUsd ?? 0),
      reservedUsd: usdFromNano(budget?.reservedNanoUsd ?? 0),
      period,
      tokensAvailable: Math.floor(level.tokens),
      requestsAvailable: Math.floor(level.requests),
    };
  };
}
