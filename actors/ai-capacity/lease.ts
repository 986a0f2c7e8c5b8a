import { randomUUID } from "node:crypto";
import type { z } from "zod";
import type { aiCapacityContract, LeaseGrant } from "../../protocol/ai-capacity.ts";
import type { TenantPolicy } from "../../protocol/tenants.ts";
import { isMeshError, MeshError, ownerKey, type WorkContext, type TenantPolicyCache } from "../../runtime/index.ts";
import { fitsCapacity, scaled } from "./bucket-math.ts";
import { planBuckets, type PlannedBucket } from "./bucket-plan.ts";
import { periodKey, type OpenLease } from "./capacity-state.ts";
import { retentionOf, type AiCapacityConfig } from "./config.ts";
import { CAPACITY_KEY, ledgersOf } from "./ledgers.ts";
import { grant } from "./lease-ops.ts";
import type { HealthState } from "./provider-health.ts";
import { nanoUsd, priceOf, reservationNanoUsd, tokenPrice, usdFromNano } from "./prices.ts";

type LeaseInput = z.output<typeof aiCapacityContract.requests.lease.input>;

/** A share refused for its size will not fit while the policy stays: its holder leases per call meanwhile. */
const SHARE_REFUSED_RETRY_MS = 5000;

/**
 * Checks in this order: the tenant's policy (model allowed and priced), the provider's
 * cool-down, the request against the buckets' capacity; then takes from the three buckets and
 * reserves budget in one atomic step on the tenant's record, or refuses and changes nothing.
 */
export function createLeaseHandler(config: AiCapacityConfig, policies: TenantPolicyCache) {
  const retryAfter = (ms: number) => Math.min(config.maxRetryAfterMs, Math.max(1, Math.ceil(ms)));
  const retention = retentionOf(config);

  /** Refuses what the provider's health or the buckets' capacity can never grant now; returns the plan. */
  function planFor(input: LeaseInput, policy: TenantPolicy, health: HealthState): PlannedBucket[] {
    if (health.coolDownUntil > Date.now()) {
      throw new MeshError("RATE_LIMITED", `model ${input.model} is cooling down after provider rate limits`, {
        retryAfterMs: retryAfter(health.coolDownUntil - Date.now()),
      });
    }
    const amount = { tokens: input.estimatedTokens, requests: input.requests };
    const plan = planBuckets(input, policy, config, health.factor);
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
    return plan;
  }

  /** A share (a lease for several calls) takes at most `maxShareFraction` of each bucket and of the budget. */
  function refuseLargeShare(input: LeaseInput, plan: readonly PlannedBucket[], policy: TenantPolicy, reservedNanoUsd: number): void {
    if (input.requests <= 1) return;
    const amount = { tokens: input.estimatedTokens, requests: input.requests };
    const tooLarge = plan.some((bucket) => !fitsCapacity(scaled(bucket.configured, config.maxShareFraction), amount))
      || reservedNanoUsd > nanoUsd(policy.budget.amountUsd) * config.maxShareFraction;
    if (tooLarge) {
      throw new MeshError("RATE_LIMITED", `a share this large would take more than ${config.maxShareFraction} of the tenant's limits or budget; lease per call`, {
        retryAfterMs: retryAfter(SHARE_REFUSED_RETRY_MS),
      });
    }
  }

  return async function lease(input: LeaseInput, context: WorkContext): Promise<LeaseGrant> {
    const policy = await policies.get(context);
    if (policy.allowedModels.length > 0 && !policy.allowedModels.includes(input.model)) {
      throw new MeshError("FORBIDDEN", `model ${input.model} is not allowed for this tenant`);
    }
    if (input.callTimeoutMs !== undefined && input.callTimeoutMs > config.maxCallMs) {
      throw new MeshError("BAD_REQUEST", `callTimeoutMs ${input.callTimeoutMs} is longer than the longest call a lease covers (${config.maxCallMs} ms)`);
    }
    const price = priceOf(config.prices, input.model);
    const ledgers = ledgersOf(context.store);
    const now = Date.now();
    const perToken = tokenPrice(price);
    const lease: OpenLease = {
      id: randomUUID(), service: input.service, model: input.model, period: periodKey(policy.budget.period, now),
      tokens: input.estimatedTokens, requests: input.requests, reservedNanoUsd: reservationNanoUsd(perToken, input.estimatedTokens),
      ...perToken, createdAt: now, expiresAt: now + (input.callTimeoutMs ?? 0) + config.leaseTtlMs, owner: ownerKey(context.caller),
    };
    // The expiry entry is written while the health is read, and before the grant: a granted lease
    // always has the entry that lets a sweeper expire it. A refused lease's entry is removed (or,
    // if that is lost, costs a sweeper one look).
    const expiryEntry = ledgers.leaseExpiry.insertOne({ _id: lease.id, tenant: context.tenant, leaseExpiresAt: lease.expiresAt });
    expiryEntry.catch(() => {}); // awaited below; a failure must not count as unhandled while the health is read
    try {
      const plan = planFor(input, policy, await ledgers.health.read("", input.model));
      refuseLargeShare(input, plan, policy, lease.reservedNanoUsd);
      await expiryEntry;
      await ledgers.capacity.update(context.tenant, CAPACITY_KEY, grant({
        lease, plan, budgetLimitNanoUsd: nanoUsd(policy.budget.amountUsd), maxOpenLeases: config.maxOpenLeases, retention,
      }));
    } catch (error) {
      void expiryEntry.then(() => ledgers.expiryCleanup.forget(lease.id, context.log), () => {});
      throw isMeshError(error) && error.code === "RATE_LIMITED" && error.retryAfterMs !== undefined
        ? new MeshError("RATE_LIMITED", error.message, { retryAfterMs: retryAfter(error.retryAfterMs) })
        : error;
    }
    return {
      leaseId: lease.id, grantedTokens: lease.tokens, grantedRequests: lease.requests,
      reservedUsd: usdFromNano(lease.reservedNanoUsd), expiresAt: lease.expiresAt, price,
    };
  };
}
