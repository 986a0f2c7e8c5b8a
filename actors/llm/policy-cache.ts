import { tenantsContract, type TenantPolicy } from "../../protocol/tenants.ts";
import type { WorkContext } from "../../runtime/index.ts";

export interface PolicyCache {
  /** The work's tenant policy from the tenants actor; NOT_FOUND for an unknown tenant passes through. */
  get(context: WorkContext): Promise<TenantPolicy>;
}

/**
 * Policies are read through the protocol and reused for `ttlMs`, so a burst of calls costs one
 * tenants.get per replica; concurrent misses share one request. Failures are not cached.
 */
export function createPolicyCache(ttlMs: number, now: () => number = Date.now): PolicyCache {
  const entries = new Map<string, { policy: Promise<TenantPolicy>; fetchedAt: number }>();
  return {
    async get(context) {
      const cached = entries.get(context.tenant);
      if (cached && now() - cached.fetchedAt < ttlMs) return cached.policy;
      const policy = context.mesh.request(tenantsContract.requests.get, {});
      const entry = { policy, fetchedAt: now() };
      entries.set(context.tenant, entry);
      policy.catch(() => {
        if (entries.get(context.tenant) === entry) entries.delete(context.tenant);
      });
      return policy;
    },
  };
}
