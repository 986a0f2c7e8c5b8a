/**
 * Event ids a consumer has processed, in the consuming actor's own database
 * (`_processed_events`, `_id` = `<durable>:<eventId>`). Records expire after `ttlMs`,
 * which must exceed how long a redelivery can come (stream max age). FerretDB has no TTL
 * indexes, so reads ignore expired records and `record` sweeps them now and then.
 */
import type { Collection, Db } from "mongodb";
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

  return {
    async seen(eventId) {
      const found = await collection.findOne({ _id: idPrefix + eventId, expiresAt: { $gt: new Date() } }, { projection: { _id: 1 } });
      return found !== null;
    },
    async record(eventId) {
      await ensureTtlIndex();
      try {
        await collection.insertOne({ _id: idPrefix + eventId, expiresAt: new Date(Date.now() + ttlMs) });
      } catch (error) {
        if (codeOf(error) !== DUPLICATE_KEY) throw error;
        // Already recorded (or an expired record not swept yet): push its expiry forward.
        await collection.updateOne({ _id: idPrefix + eventId }, { $set: { expiresAt: new Date(Date.now() + ttlMs) } });
      }
      if (Date.now() - lastSweep >= SWEEP_INTERVAL_MS) await sweepExpired();
    },
    sweepExpired,
  };
}

function codeOf(error: unknown): unknown {
  return typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
