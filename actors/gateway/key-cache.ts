import type { ApiKeys } from "./api-keys.ts";

/**
 * Key -> tenant lookups reused for `ttlMs`: a revoked key is refused at most `ttlMs` after the
 * revocation (the revocation bound, GATEWAY_KEY_CACHE_MS). Unknown keys are not remembered,
 * so a key works the moment it is created. Concurrent lookups of one key share one read.
 */
export function createKeyCache(keys: Pick<ApiKeys, "tenantOf">, ttlMs: number, now: () => number = Date.now) {
  const entries = new Map<string, { tenant: string; until: number }>();
  const loading = new Map<string, Promise<string | undefined>>();
  const MAX_ENTRIES = 100_000;
  return {
    async tenantOf(key: string): Promise<string | undefined> {
      const cached = entries.get(key);
      if (cached && cached.until > now()) return cached.tenant;
      entries.delete(key);
      let load = loading.get(key);
      if (!load) {
        load = keys.tenantOf(key).then((tenant) => {
          if (tenant && ttlMs > 0) {
            if (entries.size >= MAX_ENTRIES) entries.delete(entries.keys().next().value as string);
            entries.set(key, { tenant, until: now() + ttlMs });
          }
          return tenant;
        }).finally(() => loading.delete(key));
        loading.set(key, load);
      }
      return load;
    },
  };
}
export type KeyCache = ReturnType<typeof createKeyCache>;
