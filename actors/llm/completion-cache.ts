import type { CompletionResult } from "../../protocol/llm.ts";
import { isMeshError, type WorkContext } from "../../runtime/index.ts";

export const COMPLETION_CACHE = "completion_cache";

/** What a cache entry keeps: the answer, never the prompt (the key is its hash). */
export interface CachedCompletion {
  /** `<tenant>/<key>`: read back by `_id` alone, the one lookup FerretDB serves from an index. */
  _id?: string;
  key: string;
  model: string;
  content: string | null;
  toolCalls: CompletionResult["toolCalls"];
  usage: CompletionResult["usage"];
  createdAt: Date;
  expiresAt: Date;
}

/**
 * The deterministic-answer cache. Entries live in a tenant-owned collection, so the tenant is
 * part of every key and two tenants never share an answer. A failing cache never fails a
 * request: a read error is a miss and a write error is logged.
 */
export async function readCachedCompletion(context: WorkContext, key: string): Promise<CachedCompletion | null> {
  try {
    return await context.store.collection<CachedCompletion>(COMPLETION_CACHE).findById(context.tenant, cacheId(context.tenant, key));
  } catch (error) {
    context.log.warn({ err: isMeshError(error) ? error.message : error }, "completion cache read failed; calling the provider");
    return null;
  }
}

export async function writeCachedCompletion(context: WorkContext, entry: Omit<CachedCompletion, "createdAt" | "expiresAt">, ttlMs: number): Promise<void> {
  const createdAt = new Date();
  const fields = { ...entry, createdAt, expiresAt: new Date(createdAt.getTime() + ttlMs) };
  try {
    // An expired entry not yet swept is overwritten in place (the key is unique per tenant).
    await context.store.collection<CachedCompletion>(COMPLETION_CACHE)
      .updateOne(context.tenant, { _id: cacheId(context.tenant, entry.key) }, { $set: fields }, { upsert: true });
  } catch (error) {
    // Two replicas storing the same answer at once: one wins the unique key, which is fine.
    if (isMeshError(error) && error.code === "CONFLICT") return;
    context.log.warn({ err: isMeshError(error) ? error.message : error }, "completion cache write failed");
  }
}

function cacheId(tenant: string, key: string): string {
  return `${tenant}/${key}`;
}
