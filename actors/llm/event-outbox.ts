import type { Logger } from "pino";
import type { EventContract } from "../../protocol/contract.ts";
import { llmContract } from "../../protocol/llm.ts";
import type { ActorStore, StartContext } from "../../runtime/index.ts";

/** The collection of events JetStream refused during a request, kept until a replica publishes them. */
export const EVENT_OUTBOX = "event_outbox";

/** One event waiting to be published; `_id` is its event id, so storing it twice keeps one. */
export interface OutboxEntry {
  _id: string;
  subject: string;
  tenant: string;
  traceparent: string;
  /** The payload as JSON: one string field is cheap for FerretDB to store and read. */
  payload: string;
  storedAt: Date;
}

const EVENTS_BY_SUBJECT = new Map<string, EventContract>(Object.values(llmContract.events).map((event) => [event.subject, event]));
const DRAIN_BATCH = 100;

/** Stores an event for the drainer. A repeat of the same event id is already stored: not an error. */
export async function storeInOutbox(store: ActorStore, entry: Omit<OutboxEntry, "storedAt">): Promise<void> {
  try {
    await store.globalCollection<OutboxEntry>(EVENT_OUTBOX).insertOne({ ...entry, storedAt: new Date() });
  } catch (error) {
    if ((error as { code?: unknown }).code !== 11000) throw error;
  }
}

/**
 * Publishes what the outbox holds, oldest first as found, and removes each entry once JetStream
 * stored it (by `_id`). Every replica drains: two replicas publishing the same entry publish the
 * same event id, which the stream's duplicate window drops and the consumers' idempotence absorbs
 * past it. Stops at the first refusal (JetStream still refuses; the next round tries again).
 */
export async function drainOutbox(context: Pick<StartContext, "store" | "publish">): Promise<number> {
  const outbox = context.store.globalCollection<OutboxEntry>(EVENT_OUTBOX);
  const entries = await outbox.find({}, { limit: DRAIN_BATCH });
  let published = 0;
  for (const entry of entries) {
    const event = EVENTS_BY_SUBJECT.get(entry.subject);
    if (!event) {
      // Not an event of this actor's contract (an older version's): nothing can publish it.
      await outbox.deleteOne({ _id: entry._id });
      continue;
    }
    await context.publish(event, JSON.parse(entry.payload), { eventId: entry._id, tenant: entry.tenant, traceparent: entry.traceparent });
    await outbox.deleteOne({ _id: entry._id });
    published++;
  }
  return published;
}

/** Every replica drains on an unref'd timer; the returned function stops it after a drain in progress. */
export function startOutboxDrainer(context: StartContext & { log: Logger }, intervalMs: number): () => Promise<void> {
  let draining: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (draining) return;
    draining = drainOutbox(context)
      .then((published) => {
        if (published > 0) context.log.info({ published }, "published events from the outbox");
      })
      .catch((error: unknown) => context.log.warn({ err: error }, "outbox drain stopped; the next round retries"))
      .finally(() => { draining = undefined; });
  }, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await draining;
  };
}
