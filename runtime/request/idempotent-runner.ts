import { setTimeout as sleep } from "node:timers/promises";
import { createHash } from "node:crypto";
import type { ErrorBody } from "../../protocol/errors.ts";
import { ownerKey } from "../auth/caller-identity.ts";
import { MeshError, hasCode, isMeshError } from "../errors.ts";
import type { Work } from "../actor/work-context.ts";
import { jitter } from "../resilience/retry.ts";

type StoredReply = { ok: true; data: unknown } | { ok: false; error: ErrorBody };

/** The part of the idempotency store the request path needs (runtime/store/idempotency.ts). */
export interface IdempotencyLedger {
  begin(params: { tenant: string; scope: string; key: string; requestHash: string; lockMs: number; ttlMs: number }): Promise<
    { state: "execute"; token: string } | { state: "replay"; reply: StoredReply } | { state: "in-progress"; retryAfterMs: number }
  >;
  complete(params: { tenant: string; scope: string; key: string; token: string; reply: StoredReply }): Promise<unknown>;
  abandon(params: { tenant: string; scope: string; key: string; token: string }): Promise<unknown>;
  awaitResult(params: { tenant: string; scope: string; key: string; requestHash: string; signal: AbortSignal; pollMs?: number }): Promise<StoredReply | null>;
}

export interface IdempotentRunner {
  run(params: { work: Work; subject: string; key: string; body: unknown; run: () => Promise<unknown> }): Promise<unknown>;
}

/** A concurrent duplicate stops waiting this long before its deadline, so its CONFLICT still reaches the caller. */
const REPLY_MARGIN_MS = 250;
/** A reply that could not be stored is stored again in the background (after the caller has it) this often, this long. */
const COMPLETE_RETRY_MS = 500;
const COMPLETE_RETRY_FOR_MS = 10 * 60_000;

function replayed(reply: StoredReply): unknown {
  if (reply.ok) return reply.data;
  const { code, message, retryAfterMs } = reply.error;
  throw new MeshError(code, message, retryAfterMs === undefined ? {} : { retryAfterMs });
}

/**
 * At most one execution per (actor, tenant, subject, caller, key): the first request claims the
 * key, runs and stores its reply; repeats replay it; a concurrent duplicate waits for the
 * stored reply until shortly before its own deadline, then gets CONFLICT with retryAfterMs.
 * A handler that succeeded never gives its claim up: if its reply cannot be stored (the
 * database is down) the caller still gets the data, and the reply is stored again every
 * COMPLETE_RETRY_MS. While the database is down no retry can claim the key either; once it is
 * back the stored reply normally lands first. Only a retry that arrives after the claim's lock
 * ran out (deadline + 1 s) and before that store could run the request again (it is logged).
 * Keys are the caller's own: a caller from another account (a service, a tenant) has its keys
 * apart, so it can neither replay another caller's stored reply nor claim a key first to spoil it.
 */
export function createIdempotentRunner(ledger: IdempotencyLedger, ttlMs: number): IdempotentRunner {
  return {
    async run({ work, subject, key, body, run }) {
      const requestHash = createHash("sha256").update(JSON.stringify(body)).digest("hex");
      const where = { tenant: work.tenant, scope: work.caller.kind === "mesh" ? subject : `${subject}@${ownerKey(work.caller)}`, key };
      const lockMs = Math.max(1000, work.deadline - Date.now() + 1000);
      let claim = await ledger.begin({ ...where, requestHash, lockMs, ttlMs });
      // awaitResult also returns null when the holder released its claim: then try to claim again.
      while (claim.state !== "execute") {
        if (claim.state === "replay") return replayed(claim.reply);
        const patience = AbortSignal.any([work.signal, AbortSignal.timeout(Math.max(0, work.deadline - Date.now() - REPLY_MARGIN_MS))]);
        const reply = await ledger.awaitResult({ ...where, requestHash, signal: patience });
        if (reply) return replayed(reply);
        if (patience.aborted) {
          throw new MeshError("CONFLICT", "a request with this idempotency key is still running", { retryAfterMs: claim.retryAfterMs });
        }
        claim = await ledger.begin({ ...where, requestHash, lockMs, ttlMs });
      }
      let data: unknown;
      try {
        data = await run();
      } catch (error) {
        // Terminal outcomes are final for this request: stored and replayed, not run again.
        if (isMeshError(error) && error.terminal) {
          await ledger.complete({ ...where, token: claim.token, reply: { ok: false, error: error.toBody() } });
        } else {
          await ledger.abandon({ ...where, token: claim.token }).catch(() => {});
        }
        throw error;
      }
      const stored = { ...where, token: claim.token, reply: { ok: true, data } as StoredReply };
      await ledger.complete(stored).catch((error: unknown) => {
        work.log.error({ err: error, key }, "the reply of an executed request could not be stored; storing it in the background");
        void storeLater(ledger, stored, work);
      });
      return data;
    },
  };
}

async function storeLater(ledger: IdempotencyLedger, stored: Parameters<IdempotencyLedger["complete"]>[0], work: Work): Promise<void> {
  const giveUpAt = Date.now() + COMPLETE_RETRY_FOR_MS;
  while (Date.now() < giveUpAt) {
    // Unreferenced: a process that is otherwise done does not stay up for this.
    await sleep(jitter(COMPLETE_RETRY_MS), undefined, { ref: false });
    try {
      await ledger.complete(stored);
      work.log.info({ key: stored.key }, "the reply of an executed request was stored after all");
      return;
    } catch (error) {
      if (!hasCode(error, "UNAVAILABLE")) {
        work.log.error({ err: error, key: stored.key }, "the reply of an executed request cannot be stored");
        return;
      }
    }
  }
  work.log.error({ key: stored.key }, "gave up storing the reply of an executed request: a retry after its claim expires may run it again");
}
