import { createHash } from "node:crypto";
import type { ErrorBody } from "../../protocol/errors.ts";
import { MeshError, isMeshError } from "../errors.ts";
import type { Work } from "../actor/work-context.ts";

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

/** Outcomes that are final for this request: stored and replayed, not retried. */
const FINAL_CODES = new Set(["BAD_REQUEST", "NOT_FOUND", "CONFLICT", "FORBIDDEN", "OVER_BUDGET"]);

function replayed(reply: StoredReply): unknown {
  if (reply.ok) return reply.data;
  const { code, message, retryAfterMs } = reply.error;
  throw new MeshError(code, message, retryAfterMs === undefined ? {} : { retryAfterMs });
}

/**
 * At most one execution per (actor, tenant, subject, key): the first request claims the
 * key, runs and stores its reply; repeats replay it; a concurrent duplicate waits for the
 * stored reply until its own deadline, then gets CONFLICT with retryAfterMs.
 */
export function createIdempotentRunner(ledger: IdempotencyLedger, ttlMs: number): IdempotentRunner {
  return {
    async run({ work, subject, key, body, run }) {
      const requestHash = createHash("sha256").update(JSON.stringify(body)).digest("hex");
      const where = { tenant: work.tenant, scope: subject, key };
      const lockMs = Math.max(1000, work.deadline - Date.now() + 1000);
      let claim = await ledger.begin({ ...where, requestHash, lockMs, ttlMs });
      // awaitResult also returns null when the holder released its claim: then try to claim again.
      while (claim.state !== "execute") {
        if (claim.state === "replay") return replayed(claim.reply);
        const reply = await ledger.awaitResult({ ...where, requestHash, signal: work.signal });
        if (reply) return replayed(reply);
        if (work.signal.aborted) {
          throw new MeshError("CONFLICT", "a request with this idempotency key is still running", { retryAfterMs: claim.retryAfterMs });
        }
        claim = await ledger.begin({ ...where, requestHash, lockMs, ttlMs });
      }
      try {
        const data = await run();
        await ledger.complete({ ...where, token: claim.token, reply: { ok: true, data } });
        return data;
      } catch (error) {
        if (isMeshError(error) && FINAL_CODES.has(error.code)) {
          await ledger.complete({ ...where, token: claim.token, reply: { ok: false, error: error.toBody() } });
        } else {
          await ledger.abandon({ ...where, token: claim.token }).catch(() => {});
        }
        throw error;
      }
    },
  };
}
