import { randomUUID } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import type { Collection, Document } from "mongodb";
import { ErrorBody } from "../../protocol/errors.ts";
import { MeshError } from "../errors.ts";
import { isDuplicateKeyError } from "./database-errors.ts";
import { checkClaim, checkKeyed, checkOwned, checkReply, type ClaimParams, type KeyedParams, type OwnedParams } from "./idempotency-params.ts";

export const IDEMPOTENCY_COLLECTION = "_idempotency";

export type IdempotentReply = { ok: true; data: unknown } | { ok: false; error: ErrorBody };

export type BeginResult =
  | { state: "execute"; token: string }
  | { state: "replay"; reply: IdempotentReply }
  | { state: "in-progress"; retryAfterMs: number };

export interface IdempotencyStore {
  /** Claims (tenant, scope, key) for one execution, or says why not. */
  begin(params: ClaimParams): Promise<BeginResult>;
  /** Stores the reply; false when the token no longer owns the claim (it was taken over). */
  complete(params: OwnedParams & { reply: IdempotentReply }): Promise<boolean>;
  /** Releases the claim so that a retry may execute; false when the token no longer owns it. */
  abandon(params: OwnedParams): Promise<boolean>;
  /**
   * Waits for the claim's owner to store its reply. `null` when the signal aborts, or when the
   * claim was released or its owner's lock ran out: then call `begin()` again.
   */
  awaitResult(params: KeyedParams & { requestHash: string; signal: AbortSignal; pollMs?: number }): Promise<IdempotentReply | null>;
}

/** Store-internal access to the idempotency collection: every call goes through the breaker. */
export interface GuardedCollection {
  readonly name: string;
  run<R>(operation: (collection: Collection<Document>) => Promise<R>): Promise<R>;
}

interface IdempotencyRecord {
  _id: string;
  tenant: string;
  scope: string;
  key: string;
  requestHash: string;
  state: "pending" | "done";
  /** Owner of the claim; a takeover replaces it, so a late owner cannot overwrite. */
  token: string;
  lockedUntil: Date;
  ttlMs: number;
  /** JSON text: reply data may hold keys FerretDB cannot store (dots, leading "$"). */
  reply?: string;
  expiresAt: Date;
}

const MAX_CLAIM_ATTEMPTS = 5;
const CONTENDED_RETRY_MS = 50;

/**
 * At most one execution per (tenant, scope, key), with single-document atomic operations only:
 * a claim is an insert with a unique `_id`; taking over a dead owner's claim (lock ran out) or
 * an expired record is won by inserting a marker keyed by the old token, then swapping the token.
 */
export function createIdempotencyStore(records: GuardedCollection): IdempotencyStore {
  const read = (id: string) => records.run((c) => c.findOne({ _id: id } as Document)) as Promise<IdempotencyRecord | null>;

  return {
    async begin(params) {
      const claim = checkClaim(params);
      for (let attempt = 0; attempt < MAX_CLAIM_ATTEMPTS; attempt++) {
        const token = randomUUID();
        const now = Date.now();
        const fields = {
          requestHash: claim.requestHash, state: "pending" as const, token, ttlMs: claim.ttlMs,
          lockedUntil: new Date(now + claim.lockMs), expiresAt: new Date(now + Math.max(claim.ttlMs, claim.lockMs)),
        };
        try {
          const record: IdempotencyRecord = { _id: claim.id, tenant: claim.tenant, scope: claim.scope, key: claim.key, ...fields };
          await records.run((c) => c.insertOne(record as Document));
          return { state: "execute", token };
        } catch (error) {
          if (!isDuplicateKeyError(error)) throw error;
        }
        const existing = await read(claim.id);
        if (existing === null) continue; // released between our insert and read
        const seen = Date.now();
        const takeOver = async (condition: Document): Promise<boolean> => {
          // FerretDB does not apply a conditional update atomically (it reads, then writes by
          // _id: two callers can both "win"), but a unique insert is atomic everywhere. So the
          // right to replace the old token goes to whoever inserts the marker keyed by it.
          const marker = {
            _id: JSON.stringify([claim.tenant, claim.scope, claim.key, existing.token]),
            takeoverOf: claim.id, tenant: claim.tenant, expiresAt: fields.expiresAt,
          };
          try {
            await records.run((c) => c.insertOne(marker as Document));
          } catch (error) {
            if (isDuplicateKeyError(error)) return false;
            throw error;
          }
          const result = await records.run((c) => c.updateOne({ _id: claim.id, token: existing.token, ...condition } as Document, {
            $set: { ...fields, lockedUntil: new Date(seen + claim.lockMs), expiresAt: new Date(seen + Math.max(claim.ttlMs, claim.lockMs)) },
            $unset: { reply: "" },
          }));
          return result.modifiedCount === 1;
        };
        // Expired but not swept yet: the key is forgotten, whatever request it was for.
        if (existing.expiresAt.getTime() <= seen) {
          if (await takeOver({ expiresAt: { $lte: new Date(seen) } })) return { state: "execute", token };
          continue;
        }
        if (existing.requestHash !== claim.requestHash) {
          throw new MeshError("CONFLICT", "idempotency key reused with a different request");
        }
        if (existing.state === "done") return { state: "replay", reply: parseReply(existing.reply) };
        const lockLeftMs = existing.lockedUntil.getTime() - seen;
        if (lockLeftMs > 0) return { state: "in-progress", retryAfterMs: lockLeftMs };
        // The owner's lock ran out (it crashed or hung): whoever swaps the old token wins.
        if (await takeOver({ state: "pending", lockedUntil: { $lte: new Date(seen) } })) return { state: "execute", token };
      }
      return { state: "in-progress", retryAfterMs: CONTENDED_RETRY_MS };
    },

    async complete(params) {
      const owned = checkOwned(params);
      const reply = JSON.stringify(checkReply(params.reply));
      // A point read by exactly `{_id}` (the only filter FerretDB serves from an index); the
      // owner is checked here. The update below keeps its guard, and with it a scan on FerretDB.
      const claim = await read(owned.id);
      if (claim === null || claim.token !== owned.token || claim.state !== "pending") return false;
      const ttlMs = claim.ttlMs;
      const result = await records.run((c) => c.updateOne({ _id: owned.id, token: owned.token, state: "pending" } as Document, {
        $set: { state: "done", reply, expiresAt: new Date(Date.now() + ttlMs) },
      }));
      return result.modifiedCount === 1;
    },

    async abandon(params) {
      const owned = checkOwned(params);
      const result = await records.run((c) => c.deleteOne({ _id: owned.id, token: owned.token, state: "pending" } as Document));
      return result.deletedCount === 1;
    },

    async awaitResult(params) {
      const keyed = checkKeyed(params);
      const pollMs = params.pollMs ?? 50;
      if (!Number.isFinite(pollMs) || pollMs <= 0) throw new MeshError("INTERNAL", "pollMs must be a positive number");
      while (!params.signal.aborted) {
        const record = await read(keyed.id);
        const now = Date.now();
        if (record === null || record.expiresAt.getTime() <= now) return null;
        if (record.requestHash !== params.requestHash) throw new MeshError("CONFLICT", "idempotency key reused with a different request");
        if (record.state === "done") return parseReply(record.reply);
        if (record.lockedUntil.getTime() <= now) return null;
        try {
          await delay(pollMs, undefined, { signal: params.signal });
        } catch {
          return null;
        }
      }
      return null;
    },
  };
}

function parseReply(text: string | undefined): IdempotentReply {
  try {
    return checkReply(JSON.parse(text ?? ""));
  } catch (error) {
    throw new MeshError("INTERNAL", "stored idempotent reply is unreadable", { cause: error });
  }
}
