/**
 * The per-tenant request rate at the edge: a token bucket per tenant holding at most one
 * minute's share of `requestsPerMinute / replicas`, refilled continuously. Pure state and an
 * explicit clock, so it is tested without waiting. Each replica keeps its own buckets (no shared
 * state on the request path), so the gateway as a whole admits the tenant's rate when the load
 * balancer spreads its requests evenly.
 */
export interface EdgeRate {
  /** Takes one request from the tenant's bucket; when it is empty, how long until one is back. */
  take(tenant: string, requestsPerMinute: number, now: number): { ok: true } | { ok: false; retryAfterMs: number };
}

const MAX_TENANTS = 10_000;

export function createEdgeRate(replicas: number): EdgeRate {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(tenant, requestsPerMinute, now) {
      const capacity = Math.max(1, requestsPerMinute / replicas);
      const perMs = capacity / 60_000;
      let bucket = buckets.get(tenant);
      if (!bucket) {
        if (buckets.size >= MAX_TENANTS) buckets.delete(buckets.keys().next().value as string);
        bucket = { tokens: capacity, at: now };
        buckets.set(tenant, bucket);
      }
      bucket.tokens = Math.min(capacity, bucket.tokens + Math.max(0, now - bucket.at) * perMs);
      bucket.at = now;
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { ok: true };
      }
      return { ok: false, retryAfterMs: Math.ceil((1 - bucket.tokens) / perMs) };
    },
  };
}
