import type { Logger } from "pino";
import type { z } from "zod";
import type { EventContract } from "../../protocol/contract.ts";
import { hasCode, retryWithin, type ActorStore, type StartContext, type WorkContext } from "../../runtime/index.ts";
import { storeInOutbox } from "./event-outbox.ts";

const FIRST_RETRY_MS = 25;
const LONGEST_RETRY_MS = 400;

export type DurableOutcome = "published" | "stored";

/** Where an event goes and for whom: a request's context, or the actor's own for work outside a request. */
interface DurableTarget {
  publish(event: EventContract, payload: unknown, eventId: string): Promise<void>;
  readonly store: ActorStore;
  /** Asked only when the event goes to the outbox: a request's child logger costs to build. */
  log(): Logger;
  readonly tenant: string;
  readonly traceparent: string;
  /** Epoch ms after which JetStream refusals are not retried any more: the event goes to the outbox. */
  readonly retryUntil: number;
}

/**
 * Publishes one of the request's events so that it is never dropped: JetStream refusals
 * (`UNAVAILABLE`) are retried with jittered backoff for `retryForMs` (never past the request's
 * deadline), then the event is stored in the outbox, which every replica republishes under the
 * same event id. Throws only when both JetStream and the database refused; what that means
 * depends on the event, so the caller decides (see usage-event.ts and settlements.ts).
 */
export function publishDurably<E extends EventContract>(
  context: WorkContext, event: E, payload: z.input<E["schema"]>, eventId: string, retryForMs: number,
): Promise<DurableOutcome> {
  return publishOrStore({
    publish: (contract, body, id) => context.publish(contract, body as z.input<E["schema"]>, { eventId: id }),
    store: context.store, log: () => context.log, tenant: context.tenant, traceparent: context.traceparent,
    retryUntil: Math.min(Date.now() + retryForMs, context.deadline),
  }, event, payload, eventId);
}

/** The same for an event of `tenant` sent outside any request (a capacity share's settlement). */
export function publishDurablyForTenant<E extends EventContract>(
  start: Pick<StartContext, "publish" | "store" | "log">, tenant: string, event: E, payload: z.input<E["schema"]>, eventId: string, retryForMs: number,
): Promise<DurableOutcome> {
  return publishOrStore({
    publish: (contract, body, id) => start.publish(contract, body, { eventId: id, tenant }),
    store: start.store, log: () => start.log, tenant, traceparent: "", retryUntil: Date.now() + retryForMs,
  }, event, payload, eventId);
}

async function publishOrStore(target: DurableTarget, event: EventContract, payload: unknown, eventId: string): Promise<DurableOutcome> {
  try {
    await retryWithin(() => target.publish(event, payload, eventId), {
      maxAttempts: Number.POSITIVE_INFINITY,
      // INTERNAL is a payload the schema refused: a bug no retry or outbox can fix.
      retryOn: (error) => hasCode(error, "UNAVAILABLE"),
      deadline: target.retryUntil,
      initialDelayMs: FIRST_RETRY_MS,
      maxDelayMs: LONGEST_RETRY_MS,
    });
    return "published";
  } catch (error) {
    if (!hasCode(error, "UNAVAILABLE")) throw error;
  }
  await storeInOutbox(target.store, {
    _id: eventId, subject: event.subject, tenant: target.tenant, traceparent: target.traceparent, payload: JSON.stringify(payload),
  });
  target.log().warn({ eventId, subject: event.subject }, "event stream refused the event; stored in the outbox for republishing");
  return "stored";
}
