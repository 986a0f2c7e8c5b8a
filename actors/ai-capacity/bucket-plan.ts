import type { TenantPolicy } from "../../protocol/tenants.ts";
import type { TenantCollection } from "../../runtime/index.ts";
import { scaled, type BucketAmount, type BucketCapacity } from "./bucket-math.ts";
import { returnToBucket, takeFromBucket, type BucketDoc } from "./buckets.ts";
import type { AiCapacityConfig } from "./config.ts";
import type { LeaseBucket } from "./lease-records.ts";

export interface PlannedBucket {
  readonly kind: "tenant" | "service" | "model";
  readonly key: string;
  /** The capacity policy and configuration give the bucket. */
  readonly configured: BucketCapacity;
  /** What it grants now: the configured capacity times the provider health factor (model buckets). */
  readonly effective: BucketCapacity;
}

/**
 * The three buckets a lease draws from. All are sized from the tenant's limits: the tenant's
 * bucket whole, a service's and a model's bucket by their configured share (1 by default, so
 * any one service or model may use the whole allowance unless AI_SERVICE_SHARE/AI_MODEL_SHARE
 * say otherwise). Only the model bucket follows the provider's health.
 */
export function planBuckets(
  tenant: string, lease: { service: string; model: string }, policy: TenantPolicy, config: AiCapacityConfig, healthFactor: number,
): PlannedBucket[] {
  const tenantCapacity: BucketCapacity = { tokensPerMinute: policy.limits.tokensPerMinute, requestsPerMinute: policy.limits.requestsPerMinute };
  const service = scaled(tenantCapacity, config.serviceShare);
  const model = scaled(tenantCapacity, config.modelShare);
  return [
    { kind: "tenant", key: tenantBucketKey(tenant), configured: tenantCapacity, effective: tenantCapacity },
    { kind: "service", key: `${tenant}/service/${lease.service}`, configured: service, effective: service },
    { kind: "model", key: `${tenant}/model/${lease.model}`, configured: model, effective: scaled(model, healthFactor) },
  ];
}

export function tenantBucketKey(tenant: string): string {
  return `${tenant}/tenant`;
}

export type TakeAllResult = { readonly ok: true; readonly taken: LeaseBucket[] } | { readonly ok: false; readonly waitMs: number };

/** Takes `amount` from every bucket; if any is short, gives back what the others gave and reports the longest wait. */
export async function takeAll(buckets: TenantCollection<BucketDoc>, tenant: string, plan: readonly PlannedBucket[], amount: BucketAmount): Promise<TakeAllResult> {
  const results = await Promise.allSettled(plan.map((bucket) => takeFromBucket(buckets, tenant, bucket.key, bucket.effective, amount)));
  const taken: LeaseBucket[] = [];
  let waitMs = 0;
  let failure: unknown;
  results.forEach((result, index) => {
    const bucket = plan[index]!;
    if (result.status === "rejected") failure ??= result.reason;
    else if (result.value.ok) taken.push({ key: bucket.key, ...bucket.effective });
    else waitMs = Math.max(waitMs, result.value.waitMs);
  });
  if (taken.length === plan.length) return { ok: true, taken };
  await returnAll(buckets, tenant, taken, amount);
  if (failure !== undefined) throw failure;
  return { ok: false, waitMs };
}

export async function returnAll(buckets: TenantCollection<BucketDoc>, tenant: string, taken: readonly LeaseBucket[], amount: BucketAmount): Promise<void> {
  await Promise.all(taken.map((bucket) => returnToBucket(buckets, tenant, bucket.key, bucket, amount)));
}
