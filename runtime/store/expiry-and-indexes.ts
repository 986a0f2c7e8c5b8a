import type { Collection, Document } from "mongodb";
import type { CollectionSpec } from "../types.ts";
import type { DatabaseBreaker } from "./database-breaker.ts";

interface IndexedCollection {
  readonly spec: CollectionSpec;
  readonly raw: Collection<Document>;
}

const NOT_IMPLEMENTED = 238;

/** Creates declared indexes and TTL indexes; creating an existing identical index is a no-op. */
export async function ensureCollectionIndexes(collections: readonly IndexedCollection[], breaker: DatabaseBreaker): Promise<void> {
  for (const { spec, raw } of collections) {
    const declared = spec.indexes ?? [];
    // One index per call: FerretDB 1.24 panics on createIndexes naming several existing indexes
    // (the second replica or a restart would fail to start).
    for (const index of declared) await breaker.run(() => raw.createIndexes([index]));
    if (spec.expires === true) await breaker.run(() => ensureExpiryIndex(raw));
  }
}

async function ensureExpiryIndex(raw: Collection<Document>): Promise<void> {
  try {
    await raw.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 });
  } catch (error) {
    // FerretDB has no TTL indexes and says so with exactly this code; the sweeper deletes
    // expired records there, and a plain index keeps its sweeps and read filters cheap.
    if ((error as { code?: unknown }).code !== NOT_IMPLEMENTED) throw error;
    await raw.createIndex({ expiresAt: 1 });
  }
}

export async function sweepExpiredRecords(collections: readonly IndexedCollection[], breaker: DatabaseBreaker): Promise<number> {
  let deleted = 0;
  for (const { raw } of collections) {
    const now = new Date();
    deleted += (await breaker.run(() => raw.deleteMany({ expiresAt: { $lte: now } }))).deletedCount;
  }
  return deleted;
}
