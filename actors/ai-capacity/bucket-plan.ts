import type { TenantPolicy } from "../../protocol/tenants.ts";
import { scaled, type BucketCapacity } from "./bucket-math.ts";
import { bucketKeys } from "./capacity-state.ts";
import type { AiCapacityConfig } from "./config.ts";

export interface PlannedBucket {
  readonly kind: "tenant" | "service" | "model";
  readonly key: string;
  /** The capacity policy and configuration give the bucket. */
  readonly configured: BucketCapacity;
  /** What it grants now: the configured capacity times the provider health factor (model buckets). */
  readonly effective: BucketCapacity;
}

export function tenantCapacity(policy: TenantPolicy): BucketCapacity {
  return { tokensPerMinute: policy.limits.tokensPerMinute, requestsPerMinute: policy.limits.requestsPerMinute };
}

/**
 * The three buckets a lease draws from, all sized from the tenant's limits: the tenant's bucket
 * whole, a service's and a model's bucket by their configured share (1 by default: any one
 * service or model may use the tenant's whole allowance unless AI_SERVICE_SHARE or
 * AI_MODEL_SHARE say less). Only the model bucket follows the provider's health.
 */
export function planBuckets(lease: { service: string; model: string }, policy: TenantPolicy, config: AiCapacityConfig, healthFactor: number): PlannedBucket[] {
  const whole = tenantCapacity(policy);
  const service = scaled(whole, config.serviceShare);
  const model = scaled(whole, config.modelShare);
  const [tenantKey, serviceKey, modelKey] = bucketKeys(lease);
  return [
    { kind: "tenant", key: tenantKey, configured: whole, effective: whole },
    { kind: "service", key: serviceKey, configured: service, effective: service },
    { kind: "model", key: modelKey, configured: model, effective: scaled(model, healthFactor) },
  ];
}
