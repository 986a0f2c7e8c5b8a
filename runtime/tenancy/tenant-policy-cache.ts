import { tenantsContract, type TenantPolicy } from "../../protocol/tenants.ts";
import { MeshError } from "../errors.ts";
import type { WorkContext } from "../types.ts";

export interface TenantPolicyCache {
  /** The calling tenant's policy from the tenants actor (NOT_FOUND passes through), reused briefly. */
  get(context: Pick<WorkContext, "tenant" | "mesh" | "signal" | "traceparent">): Promise<TenantPolicy>;
}

const MAX_ENTRIES = 10_000;
/** A shared load belongs to no caller: it runs on its own deadline, not the first caller's. */
const LOAD_TIMEOUT_MS = 5000;

/**
 * A short-lived in-process copy of tenant policies for actors that read them (ai-capacity, llm,
 * usage), so a burst of work asks the tenants actor once; concurrent misses share one request
 * and failures are not kept. Each caller waits for the shared load only as long as its own
 * signal allows: a first caller with a short deadline neither cuts the others short nor cancels
 * the load. It is only a cache: every replica may hold a different age of it, and a policy
 * change applies within `ttlMs`.
 */
export function createTenantPolicyCache(ttlMs: number): TenantPolicyCache {
  const entries = new Map<string, { policy: TenantPolicy; until: number }>();
  const loading = new Map<string, Promise<TenantPolicy>>();
  return {
    async get(context) {
      const { tenant } = context;
      const cached = entries.get(tenant);
      if (cached && cached.until > Date.now()) return cached.policy;
      let load = loading.get(tenant);
      if (!load) {
        load = context.mesh.client.request(tenantsContract.requests.get, {}, { tenant, timeoutMs: LOAD_TIMEOUT_MS, traceparent: context.traceparent }).then((policy) => {
          if (entries.size >= MAX_ENTRIES) entries.delete(entries.keys().next().value as string);
          entries.delete(tenant); // re-inserted last, so the oldest entry is evicted first
          if (ttlMs > 0) entries.set(tenant, { policy, until: Date.now() + ttlMs });
          return policy;
        }).finally(() => loading.delete(tenant));
        loading.set(tenant, load);
      }
      return waitWithin(load, context.signal);
    },
  };
}

function waitWithin<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new MeshError("TIMEOUT", "deadline exceeded while reading the tenant's policy"));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new MeshError("TIMEOUT", "deadline exceeded while reading the tenant's policy"));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
