import { tenantsContract, type TenantPolicy } from "../../protocol/tenants.ts";
import type { WorkContext } from "../types.ts";

export interface TenantPolicyCache {
  /** The calling tenant's policy from the tenants actor (NOT_FOUND passes through), reused briefly. */
  get(context: Pick<WorkContext, "tenant" | "mesh">): Promise<TenantPolicy>;
}

const MAX_ENTRIES = 10_000;

/**
 * A short-lived in-process copy of tenant policies for actors that read them (ai-capacity, llm,
 * usage), so a burst of work asks the tenants actor once; concurrent misses share one request
 * and failures are not kept. It is only a
 * cache: every replica may hold a different age of it, and a policy change applies within `ttlMs`.
 */
export function createTenantPolicyCache(ttlMs: number): TenantPolicyCache {
  const entries = new Map<string, { policy: TenantPolicy; until: number }>();
  const loading = new Map<string, Promise<TenantPolicy>>();
  return {
    async get(context) {
      const cached = entries.get(context.tenant);
      if (cached && cached.until > Date.now()) return cached.policy;
      const pending = loading.get(context.tenant);
      if (pending) return pending;
      const load = context.mesh.request(tenantsContract.requests.get, {}).then((policy) => {
        if (entries.size >= MAX_ENTRIES) entries.delete(entries.keys().next().value as string);
        entries.delete(context.tenant); // re-inserted last, so the oldest entry is evicted first
        if (ttlMs > 0) entries.set(context.tenant, { policy, until: Date.now() + ttlMs });
        return policy;
      }).finally(() => loading.delete(context.tenant));
      loading.set(context.tenant, load);
      return load;
    },
  };
}
