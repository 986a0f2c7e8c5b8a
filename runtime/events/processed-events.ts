/**
 * Event ids a consumer has processed, in the consuming actor's own database
 * (`_processed_events`). One document per write holds every id that write records:
 * `{ consumer: <durable>, ids: [...], expiresAt }`. Per-id documents capped consumption at
 * ~9,000 msg/s on FerretDB (its cost is per document); a document of 512 ids records
 * ~270,000 ids/s there. Lookups (only for redeliveries and republishes) match `ids` through a
 * multikey index on MongoDB; FerretDB scans the collection for them.
 * Records expire after `ttlMs`, which must exceed how long a redelivery can come (stream max
 * age). FerretDB has no TTL indexes, so reads ignore expired records and `record` sweeps
 * them now and then.
 */
import { randomUUID } from "node:crypto";
import type { Collection, Db } from "mongodb";
import { coalescingWriter } from "./coalescing-writer.ts";
import { idBatcher } from "./id-batcher.ts";
import type { EventDedupe } from "./types.ts";

export const PROCESSED_EVENTS_COLLECTION = "_processed_events";
const DAY_MS = 24 * 60 * 60 * 1000;
const SWEEP_INTERVAL_MS = 10 * 60 * 1000;
const MAX_IDS_PER_RECORD = 4096;
/** How long ids gather before a record is written: records come after the ack, so this delays no event. */
const RECORD_LINGER_MS = 100;
const TTL_NOT_IMPLEMENTED = 238;

export interface ProcessedEventsRecord {
  _id: string;
  consumer: string;
  ids: string[];
  expiresAt: Date;
}

export interface MongoDedupe extends EventDedupe {
  /** Deletes this consumer's expired records; returns how many. */
  sweepExpired(): Promise<number>;
}

export function mongoDedupe(db: Db, durable: string, ttlMs = 7 * DAY_MS): MongoDedupe {
  const collection: Collection<ProcessedEventsRecord> = db.collection<ProcessedEventsRecord>(PROCESSED_EVENTS_COLLECTION);
  let lastSweep = Date.now();
  let indexes: Promise<void> | undefined;

  // One index per call: FerretDB panics on createIndexes over several existing indexes.
  function ensureIndexes(): Promise<void> {
    indexes ??= (async () => {
      await collection.createIndex({ consumer: 1, ids: 1 }, { name: "consumer_ids" });
      await collection.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0, name: "expiresAt_ttl" }).catch((error: unknown) => {
        if (codeOf(error) !== TTL_NOT_IMPLEMENTED) throw error;
      });
    })().catch((error: unknown) => {
      indexes = undefined;
      throw error;
    });
    return indexes;
  }

  async function sweepExpired(): Promise<number> {
    lastSweep = Date.now();
    const result = await collection.deleteMany({ consumer: durable, expiresAt: { $lte: new Date() } });
    return result.deletedCount;
  }

  // Lookups that arrive together share one query; expiry is checked here, not in the filter,
  // so the filter stays one FerretDB understands (array membership by `$in`).
  const lookUp = idBatcher<boolean>(async (ids) => {
    const now = Date.now();
    const records = await collection
      .find({ consumer: durable, ids: { $in: ids } }, { projection: { ids: 1, expiresAt: 1 } })
      .toArray();
    const wanted = new Set(ids);
    const seen = new Set<string>();
    for (const record of records) {
      if (record.expiresAt.getTime() <= now) continue;
      for (const id of record.ids) if (wanted.has(id)) seen.add(id);
    }
    return new Map(ids.map((id) => [id, seen.has(id)]));
  });

  // An id recorded twice (a repeat that raced its first record) sits in two records; the
  // later expiry wins on lookup.
  const store = coalescingWriter(async (ids) => {
    await ensureIndexes();
    await collection.insertOne({ _id: randomUUID(), consumer: durable, ids, expiresAt: new Date(Date.now() + ttlMs) });
    if (Date.now() - lastSweep >= SWEEP_INTERVAL_MS) await sweepExpired();
  }, { maxBatch: MAX_IDS_PER_RECORD, lingerMs: RECORD_LINGER_MS });

  return {
    seen: lookUp,
    record: (eventId) => store.add(eventId),
    get backlog() {
      return store.backlog;
    },
    sweepExpired,
  };
}

function codeOf(error: unknown): unknown {
  return typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
}
