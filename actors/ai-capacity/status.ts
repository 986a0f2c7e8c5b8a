import type { CapacityStatus } from "../../protocol/ai-capacity.ts";
import type { WorkContext } from "../../runtime/index.ts";
import { tenantBucketKey } from "./bucket-plan.ts";
import { peekBucket } from "./buckets.ts";
import { periodKey, readBudget } from "./budget.ts";
import { collectionsOf } from "./collections.ts";
import type { PolicyCache } from "./policy-cache.ts";
import { usdFromNano } from "./prices.ts";

export function createStatusHandler(policies: PolicyCache) {
  return async function status(_input: unknown, context: WorkContext): Promise<CapacityStatus> {
    const policy = await policies.get(context);
    const store = collectionsOf(context.store);
    const now = Date.now();
    const period = periodKey(policy.budget.period, now);
    const capacity = { tokensPerMinute: policy.limits.tokensPerMinute, requestsPerMinute: policy.limits.requestsPerMinute };
    const [budget, level] = await Promise.all([
      readBudget(store.budgets, context.tenant, period),
      peekBucket(store.buckets, context.tenant, tenantBucketKey(context.tenant), capacity, now),
    ]);
    return {
      tenant: context.tenant,
      budgetUsd: policy.budget.amountUsd,
      spentUsd: usdFromNano(budget.spentNanoUsd),
      reservedUsd: usdFromNano(budget.reservedNanoUsd),
      period,
      tokensAvailable: Math.floor(level.tokens),
      requestsAvailable: Math.floor(level.requests),
    };
  };
}
