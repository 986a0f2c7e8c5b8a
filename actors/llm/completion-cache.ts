import type { CompletionResult } from "../../protocol/llm.ts";
import { isMeshError, type WorkContext } from "../../runtime/index.ts";

export const COMPLETION_CACHE = "completion_cache";

/** What a cache entry keeps: the answer, never the prompt (the key is its hash). */
export interface CachedCompletion {
  /** `<tenant>/<key>`, set by the store's keyed API: read back by `_id` alone (a point read). */
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
    return await context.store.collection<CachedCompletion>(COMPLETION_CACHE).get(context.tenant, key);
  } catch (error) {
    context.log.warn({ err: isMeshError(error) ? error.message : error }, "completion cache read failed; calling the provider");
    return null;
  }
}

export async function writeCachedCompletion(context: WorkContext, entry: Omit<CachedCompletion, "createdAt" | "expiresAt">, ttlMs: number): Promise<void> {
  const createdAt = new Date();
  const fields = { ...entry, createdAt, expiresAt: new Date(createdAt.getTime() + ttlMs) };
  try {
    // A replace by exactly `{_id}`: an expired entry not yet swept is overwritten in place, and
    // two replicas storing the same deterministic answer at once may both write (last one wins).
    await context.store.collection<CachedCompletion>(COMPLETION_CACHE).put(context.tenant, entry.key, fields);
  } catch (error) {
    // MongoDB may refuse the second of two simultaneous upserts of one _id: the first stored it.
    if (isMeshError(error) && error.code === "CONFLICT") return;
    context.log.warn({ err: isMeshError(error) ? error.message : error }, "completion cache write failed");
  }
}
