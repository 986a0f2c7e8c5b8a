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
 * At most one execution per (tenant, scope, key), with single-document operations by `_id`
 * only (the one filter FerretDB serves from an index, and whose unique insert is atomic there
 * too; its conditional updates are not). A claim is an insert with a unique `_id`. Whatever
 * happens next to a token's claim (its owner completes or abandons it, or another replica takes
 * it over because the lock ran out) is decided by one unique insert: the marker keyed by that
 * token. Its winner then writes the claim by `_id`; everyone else gets `false`.
 */
export function createIdempotencyStore(records: GuardedCollection): IdempotencyStore {
  const read = (id: string) => records.run((c) => c.findOne({ _id: id } as Document)) as Promise<IdempotencyRecord | null>;

  /**
   * Inserts the marker that ends `token`'s hold on the claim. `forget` is the marker of a done
   * record that expired before the sweeper removed it: its token's own marker was taken by the
   * completion, and a done record has nothing left to race with but other forgetters.
   */
  const winToken = async (keyed: KeyedParams, token: string, expiresAt: Date, forget = false): Promise<boolean> => {
    const parts = [keyed.tenant, keyed.scope, keyed.key, token];
    const marker = { _id: JSON.stringify(forget ? [...parts, "expired"] : parts), tenant: keyed.tenant, expiresAt };
    try {
      await records.run((c) => c.insertOne(marker as Document));
      return true;
    } catch (error) {
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  };

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
        const takeOver = async (): Promise<boolean> => {
          if (!(await winToken(claim, existing.token, fields.expiresAt, existing.state === "done"))) return false;
          const result = await records.run((c) => c.updateOne({ _id: claim.id } as Document, {
            $set: { ...fields, lockedUntil: new Date(seen + claim.lockMs), expiresAt: new Date(seen + Math.max(claim.ttlMs, claim.lockMs)) },
            $unset: { reply: "" },
          }));
          return result.modifiedCount === 1;
        };
        // Expired but not swept yet: the key is forgotten, whatever request it was for.
        if (existing.expiresAt.getTime() <= seen) {
          if (await takeOver()) return { state: "execute", token };
          continue;
        }
        if (existing.requestHash !== claim.requestHash) {
          throw new MeshError("CONFLICT", "idempotency key reused with a different request");
        }
        if (existing.state === "done") return { state: "replay", reply: parseReply(existing.reply) };
        const lockLeftMs = existing.lockedUntil.getTime() - seen;
        if (lockLeftMs > 0) return { state: "in-progress", retryAfterMs: lockLeftMs };
        // The owner's lock ran out (it crashed or hung): whoever wins the old token's marker takes over.
        if (await takeOver()) return { state: "execute", token };
      }
      return { state: "in-progress", retryAfterMs: CONTENDED_RETRY_MS };
    },

    async complete(params) {
      const owned = checkOwned(params);
      const reply = JSON.stringify(checkReply(params.reply));
      const claim = await read(owned.id);
      if (claim === null || claim.token !== owned.token || claim.state !== "pending") return false;
      const expiresAt = new Date(Date.now() + claim.ttlMs);
      if (!(await winToken(owned, owned.token, expiresAt))) return false;
      const result = await records.run((c) => c.updateOne({ _id: owned.id } as Document, { $set: { state: "done", reply, expiresAt } }));
      return result.modifiedCount === 1;
    },

    async abandon(params) {
      const owned = checkOwned(params);
      const claim = await read(owned.id);
      if (claim === null || claim.token !== owned.token || claim.state !== "pending") return false;
      if (!(await winToken(owned, owned.token, claim.expiresAt))) return false;
      const result = await records.run((c) => c.deleteOne({ _id: owned.id } as Document));
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
