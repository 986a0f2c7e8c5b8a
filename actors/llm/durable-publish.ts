import type { z } from "zod";
import type { EventContract } from "../../protocol/contract.ts";
import { hasCode, retryWithin, type WorkContext } from "../../runtime/index.ts";
import { storeInOutbox } from "./event-outbox.ts";

const FIRST_RETRY_MS = 25;
const LONGEST_RETRY_MS = 400;

export type DurableOutcome = "published" | "stored";

/**
 * Publishes one of the request's events so that it is never dropped: JetStream refusals
 * (`UNAVAILABLE`) are retried with jittered backoff for `retryForMs` (never past the request's
 * deadline), then the event is stored in the outbox, which every replica republishes under the
 * same event id. Throws only when both JetStream and the database refused; what that means
 * depends on the event, so the caller decides (see complete.ts and capacity.ts).
 */
export async function publishDurably<E extends EventContract>(
  context: WorkContext, event: E, payload: z.input<E["schema"]>, eventId: string, retryForMs: number,
): Promise<DurableOutcome> {
  const giveUpAt = Math.min(Date.now() + retryForMs, context.deadline);
  try {
    await retryWithin(() => context.publish(event, payload, { eventId }), {
      maxAttempts: Number.POSITIVE_INFINITY,
      // INTERNAL is a payload the schema refused: a bug no retry or outbox can fix.
      retryOn: (error) => hasCode(error, "UNAVAILABLE"),
      deadline: giveUpAt,
      initialDelayMs: FIRST_RETRY_MS,
      maxDelayMs: LONGEST_RETRY_MS,
    });
    return "published";
  } catch (error) {
    if (!hasCode(error, "UNAVAILABLE")) throw error;
  }
  await storeInOutbox(context.store, {
    _id: eventId, subject: event.subject, tenant: context.tenant, traceparent: context.traceparent, payload: JSON.stringify(payload),
  });
  context.log.warn({ eventId, subject: event.subject }, "event stream refused the event; stored in the outbox for republishing");
  return "stored";
}
