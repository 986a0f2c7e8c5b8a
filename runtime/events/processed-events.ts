/**
 * Event ids a consumer has processed, in the consuming actor's own database
 * (`_processed_events`, `_id` = `<durable>:<eventId>`). Records expire after `ttlMs`,
 * which must exceed how long a redelivery can come (stream max age). FerretDB has no TTL
 * indexes, so reads ignore expired records and `record` sweeps them now and then.
 */
import type { Collection, Db } from "mongodb";
import { idBatcher } from "./id-batcher.ts";
import type { EventDedupe } from "./types.ts";

export const PROCESSED_EVENTS_COLLECTION = "_processed_events";
const DAY_MS = 24 * 60 * 60 * 1000;
const SWEEP_INTERVAL_MS = 10 * 60 * 1000;
const DUPLICATE_KEY = 11000;
const TTL_NOT_IMPLEMENTED = 238;

interface ProcessedEvent {
  _id: string;
  expiresAt: Date;
}

export interface MongoDedupe extends EventDedupe {
  /** Deletes this consumer's expired records; returns how many. */
  sweepExpired(): Promise<number>;
}

export function mongoDedupe(db: Db, durable: string, ttlMs = 7 * DAY_MS): MongoDedupe {
  const collection: Collection<ProcessedEvent> = db.collection<ProcessedEvent>(PROCESSED_EVENTS_COLLECTION);
  const idPrefix = `${durable}:`;
  let lastSweep = Date.now();
  let ttlIndex: Promise<void> | undefined;

  function ensureTtlIndex(): Promise<void> {
    ttlIndex ??= collection
      .createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0, name: "expiresAt_ttl" })
      .then(() => undefined, (error: unknown) => {
        if (codeOf(error) === TTL_NOT_IMPLEMENTED) return;
        ttlIndex = undefined;
        throw error;
      });
    return ttlIndex;
  }

  async function sweepExpired(): Promise<number> {
    lastSweep = Date.now();
    const result = await collection.deleteMany({
      _id: { $regex: `^${escapeRegex(idPrefix)}` },
      expiresAt: { $lte: new Date() },
    });
    return result.deletedCount;
  }

  // Lookups and records that arrive together share one round trip ($in / insertMany).
  // One exact `{_id}` query per id: the only filter FerretDB answers from its index (an `$in`
  // or an added `expiresAt` condition scans the whole collection there). Expiry is checked here.
  const lookUp = idBatcher<boolean>(async (ids) => {
    const now = Date.now();
    const found = await Promise.all(ids.map((id) => collection.findOne({ _id: idPrefix + id }, { projection: { expiresAt: 1 } })));
    return new Map(ids.map((id, index) => [id, (found[index]?.expiresAt?.getTime() ?? 0) > now]));
  });
  const store = idBatcher<true>(async (ids) => {
    await ensureTtlIndex();
    const expiresAt = new Date(Date.now() + ttlMs);
    try {
      await collection.insertMany(ids.map((id) => ({ _id: idPrefix + id, expiresAt })), { ordered: false });
    } catch (error) {
      const duplicates = duplicateIndexes(error)?.map((index) => idPrefix + ids[index]);
      if (!duplicates) throw error;
      // Already recorded (or expired and not swept yet): push their expiry forward.
      await collection.updateMany({ _id: { $in: duplicates } }, { $set: { expiresAt } });
    }
    if (Date.now() - lastSweep >= SWEEP_INTERVAL_MS) await sweepExpired();
    return new Map(ids.map((id) => [id, true]));
  }, 512);

  return {
    seen: (eventId) => lookUp(eventId),
    record: async (eventId) => {
      await store(eventId);
    },
    sweepExpired,
  };
}

/** Positions of a bulk insert's failed documents when every failure is a duplicate key, else undefined. */
function duplicateIndexes(error: unknown): number[] | undefined {
  const writeErrors = (error as { writeErrors?: unknown }).writeErrors;
  const list = (Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : []) as Array<{ code?: number; index?: number }>;
  if (list.length === 0 || list.some((e) => e.code !== DUPLICATE_KEY || typeof e.index !== "number")) return undefined;
  return list.map((e) => e.index as number);
}

function codeOf(error: unknown): unknown {
  return typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
