import { randomUUID } from "node:crypto";
import type { z } from "zod";
import type { aiCapacityContract, LeaseGrant } from "../../protocol/ai-capacity.ts";
import { MeshError, type WorkContext } from "../../runtime/index.ts";
import { fitsCapacity, type BucketAmount } from "./bucket-math.ts";
import { planBuckets, returnAll, takeAll } from "./bucket-plan.ts";
import { chargeBudget, periodKey, reserveBudget } from "./budget.ts";
import { collectionsOf } from "./collections.ts";
import type { AiCapacityConfig } from "./config.ts";
import type { LeaseDoc } from "./lease-records.ts";
import type { PolicyCache } from "./policy-cache.ts";
import { nanoUsd, priceOf, reservationNanoUsd, tokenPrice, usdFromNano } from "./prices.ts";
import { readHealth } from "./provider-health.ts";

type LeaseInput = z.output<typeof aiCapacityContract.requests.lease.input>;

/**
 * Grants capacity in this order: policy (model allowed, priced), provider cool-down, the three
 * buckets, the budget reservation, then the records. Each refusal gives back what the earlier
 * steps took, so a refused lease leaves nothing behind.
 */
export function createLeaseHandler(config: AiCapacityConfig, policies: PolicyCache) {
  const retryAfter = (ms: number) => Math.min(config.maxRetryAfterMs, Math.max(1, Math.ceil(ms)));

  return async function lease(input: LeaseInput, context: WorkContext): Promise<LeaseGrant> {
    const policy = await policies.get(context);
    if (policy.allowedModels.length > 0 && !policy.allowedModels.includes(input.model)) {
      throw new MeshError("FORBIDDEN", `model ${input.model} is not allowed for this tenant`);
    }
    const price = priceOf(config.prices, input.model);
    const store = collectionsOf(context.store);
    const health = await readHealth(store.providerHealth, input.model);
    if (health.coolDownUntil > Date.now()) {
      throw new MeshError("RATE_LIMITED", `model ${input.model} is cooling down after provider rate limits`, {
        retryAfterMs: retryAfter(health.coolDownUntil - Date.now()),
      });
    }

    const amount: BucketAmount = { tokens: input.estimatedTokens, requests: input.requests };
    const plan = planBuckets(context.tenant, input, policy, config, health.factor);
    for (const bucket of plan) {
      if (!fitsCapacity(bucket.configured, amount)) {
        throw new MeshError("BAD_REQUEST", `${amount.tokens} tokens and ${amount.requests} requests exceed the ${bucket.kind} limit of `
          + `${Math.floor(bucket.configured.tokensPerMinute)} tokens and ${Math.floor(bucket.configured.requestsPerMinute)} requests per minute`);
      }
      if (!fitsCapacity(bucket.effective, amount)) {
        // Only a degraded provider shrinks a bucket below the request: it passes once capacity recovers.
        throw new MeshError("RATE_LIMITED", `model ${input.model} runs at reduced capacity`, { retryAfterMs: retryAfter(config.healthRecoveryWindowMs) });
      }
    }
    const taken = await takeAll(store.buckets, context.tenant, plan, amount);
    if (!taken.ok) throw new MeshError("RATE_LIMITED", "rate limit reached", { retryAfterMs: retryAfter(taken.waitMs) });

    const now = Date.now();
    const period = periodKey(policy.budget.period, now);
    const reserved = reservationNanoUsd(tokenPrice(price), input.estimatedTokens);
    try {
      if (!(await reserveBudget(store.budgets, context.tenant, period, reserved, nanoUsd(policy.budget.amountUsd)))) {
        throw new MeshError("OVER_BUDGET", `the tenant's ${policy.budget.period === "day" ? "daily" : "monthly"} budget cannot cover this lease`);
      }
    } catch (error) {
      await returnAll(store.buckets, context.tenant, taken.taken, amount);
      throw error;
    }

    const leaseId = randomUUID();
    const leaseExpiresAt = now + config.leaseTtlMs;
    const record: LeaseDoc = {
      _id: leaseId, service: input.service, model: input.model, period,
      grantedTokens: input.estimatedTokens, grantedRequests: input.requests, reservedNanoUsd: reserved, price,
      buckets: taken.taken, state: "open", createdAt: now, leaseExpiresAt, expiresAt: new Date(leaseExpiresAt + config.leaseRetentionMs),
    };
    try {
      // The expiry entry first: a lease record never exists without the entry that expires it.
      await store.leaseExpiry.insertOne({ _id: leaseId, tenant: context.tenant, leaseExpiresAt });
      await store.leases.insertOne(context.tenant, record);
    } catch (error) {
      await chargeBudget(store.budgets, context.tenant, period, 0, reserved).catch(() => {});
      await returnAll(store.buckets, context.tenant, taken.taken, amount).catch(() => {});
      await store.leaseExpiry.deleteOne({ _id: leaseId }).catch(() => {});
      throw error;
    }
    context.log.debug({ leaseId, service: input.service, model: input.model, tokens: input.estimatedTokens }, "lease granted");
    return {
      leaseId, grantedTokens: input.estimatedTokens, grantedRequests: input.requests,
      reservedUsd: usdFromNano(reserved), expiresAt: leaseExpiresAt, price,
    };
  };
}
