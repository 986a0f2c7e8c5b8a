/**
 * The fate of one delivered event: poison -> dead-letter at once; already processed ->
 * ack; processed now -> ack, then record (batched); failed -> nak with backoff, or
 * dead-letter when the failure is terminal or the delivery budget is used up (only faults use
 * it, never outages: see retry-policy.ts). Every outcome
 * is reported through `emit`; nothing here throws.
 */
import type { JsMsg } from "@nats-io/jetstream";
import type { z } from "zod";
import { HEADERS } from "../../protocol/headers.ts";
import { classifyThrown } from "../pipeline/classify.ts";
import { decodePayload } from "../pipeline/decode.ts";
import { deliveryFailureKind, redeliveryDelay } from "./retry-policy.ts";
import type { ConsumerEvent, EventDedupe, EventDelivery, ProcessedEventRef } from "./types.ts";

export type ProcessEvent = (payload: unknown, delivery: EventDelivery) => Promise<void>;

export interface DeliveryHandling {
  readonly schema: z.ZodType;
  readonly maxDeliver: number;
  readonly backoffMs: readonly number[];
  readonly ackWaitMs: number;
  readonly process: ProcessEvent;
  readonly dedupe: EventDedupe | undefined;
  readonly deadLetter: (message: JsMsg, eventId: string, reason: string) => Promise<void>;
  readonly emit: (event: ConsumerEvent) => void;
  /** Writes of dedupe records still running after their acks; stop() waits for them. */
  readonly pendingRecords: Set<Promise<void>>;
  /** Faults (failures that use the delivery budget) per stream sequence seen by this replica. */
  readonly faults: FaultCounts;
  /** Past this many ids waiting to be recorded, a delivery waits for its own record (backpressure). */
  readonly maxPendingRecords: number;
  /**
   * The message acked or termed last; stop() confirms it with an ack, which confirms every ack
   * and term written before it. (Never a nak'd one: an ack would cancel its redelivery.)
   */
  lastFinished: JsMsg | undefined;
}

export async function handleDelivery(handling: DeliveryHandling, message: JsMsg, receivedAt: number): Promise<void> {
  const delivery = readDelivery(message, receivedAt + handling.ackWaitMs);
  const { eventId, deliveryCount } = delivery;
  const parsed = decodePayload(handling.schema, message.data);
  if (!parsed.ok) {
    await deadLetterAndTerm(handling, message, eventId, `schema: ${parsed.reason}`);
    return;
  }
  // A first delivery of an event published under its own id was already de-duplicated by
  // JetStream inside the stream's duplicate window (2 min by default); only redeliveries and
  // copies stored under another msg id need the lookup. A lookup per event costs a database read
  // (measured: consumption fell from ~9,000 to ~470 msg/s on FerretDB). So an event republished
  // under the same id after the window is processed again; handlers that must never see an
  // event twice make their own write idempotent by event id (as `usage` does).
  const ref: ProcessedEventRef = { eventId, streamSequence: message.seq, copy: delivery.copy };
  let seen: boolean;
  try {
    seen = deliveryCount > 1 || ref.copy ? ((await handling.dedupe?.seen(ref)) ?? false) : false;
  } catch (error) {
    await handleFailure(handling, message, eventId, "dedupe", error);
    return;
  }
  if (seen) {
    handling.faults.forget(message.seq);
    ackSoon(handling, message);
    handling.emit({ type: "duplicate", eventId, deliveryCount });
    return;
  }
  try {
    await handling.process(parsed.value, delivery);
  } catch (error) {
    await handleFailure(handling, message, eventId, "handler", error);
    return;
  }
  handling.faults.forget(message.seq);
  // Ack first, then record: the record only guards against repeats that come much later (a
  // republish, a lost ack's redelivery after ack_wait), so it need not hold the delivery slot.
  // A crash between handler and record is the same window either way.
  ackSoon(handling, message);
  handling.emit({ type: "processed", eventId, deliveryCount, durationMs: Date.now() - receivedAt });
  if (!handling.dedupe) return;
  const waitForRecord = recordProcessed(handling, handling.dedupe, ref);
  if (waitForRecord) await waitForRecord;
}

/**
 * Records are written in batches sharing one promise: it is watched once, not once per event.
 * Returns what to wait for when too many records are pending (backpressure), else nothing.
 */
function recordProcessed(handling: DeliveryHandling, dedupe: EventDedupe, ref: ProcessedEventRef): Promise<unknown> | undefined {
  const written = dedupe.record(ref);
  if (!handling.pendingRecords.has(written)) {
    handling.pendingRecords.add(written);
    written.then(
      () => handling.pendingRecords.delete(written),
      (error: unknown) => {
        handling.pendingRecords.delete(written);
        handling.emit({ type: "error", reason: "dedupe record failed", error });
      },
    );
  }
  return (dedupe.backlog ?? 0) > handling.maxPendingRecords ? written.catch(() => undefined) : undefined;
}

/**
 * A plain ack, not a confirmed one: a round trip per event halved consumer throughput in the
 * bench, and an ack that is lost only brings the event back, where the dedupe record (or the
 * handler's own idempotency) absorbs it.
 * Acks of one turn of the event loop go out together: handlers finish in separate microtasks,
 * and an ack written on its own costs a socket write each (41% of a consumer's CPU profile).
 * Parallel arrays, no promise or closure per ack: this runs once per event.
 */
let ackMessages: JsMsg[] = [];
let ackHandlings: DeliveryHandling[] = [];

function ackSoon(handling: DeliveryHandling, message: JsMsg): void {
  if (ackMessages.length === 0) setImmediate(flushAcks);
  ackMessages.push(message);
  ackHandlings.push(handling);
}

/** Writes the queued acks now (a stopping consumer calls it before confirming them). */
export function flushAcks(): void {
  const messages = ackMessages;
  const handlings = ackHandlings;
  ackMessages = [];
  ackHandlings = [];
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]!;
    try {
      message.ack();
      handlings[i]!.lastFinished = message;
    } catch (error) {
      // The connection is closing: the event comes back (here or elsewhere) and is deduplicated.
      handlings[i]!.emit({ type: "error", eventId: readEventId(message), deliveryCount: message.info.deliveryCount, reason: "ack failed", error });
    }
  }
}

/**
 * Resolves once the server has applied every ack this consumer wrote. nats-server queues acks
 * per consumer and applies them on its own goroutine, so a flush's PONG can arrive before they
 * are applied (a consumer read right after stop() showed `ackPending: 32`). A confirmed ack of
 * the last acked or termed message is answered after everything queued before it; acking it
 * again is harmless.
 */
export async function confirmAcks(handling: DeliveryHandling, timeoutMs: number): Promise<void> {
  flushAcks();
  await handling.lastFinished?.ackAck({ timeout: timeoutMs }).catch(() => false);
}

async function handleFailure(handling: DeliveryHandling, message: JsMsg, eventId: string, stage: "handler" | "dedupe", error: unknown): Promise<void> {
  const deliveryCount = message.info.deliveryCount;
  const failure = classifyThrown(error);
  const reason = `${stage}: ${failure.detail}`;
  const kind = deliveryFailureKind(failure, error, stage);
  if (kind === "terminal") {
    await deadLetterAndTerm(handling, message, eventId, reason, error);
    return;
  }
  // JetStream's delivery count also counts deliveries that met an outage, so the budget is
  // counted here, by faults alone.
  const faults = kind === "fault" ? handling.faults.add(message.seq) : handling.faults.get(message.seq);
  if (kind === "fault" && faults >= handling.maxDeliver) {
    await deadLetterAndTerm(handling, message, eventId, `max deliveries (${reason})`, error);
    return;
  }
  const step = kind === "fault" ? faults : deliveryCount;
  message.nak(redeliveryDelay(handling.backoffMs, step, failure.error.retryAfterMs));
  handling.emit({ type: "retry", eventId, deliveryCount, reason, error });
}

/**
 * Bounded: past `limit` sequences the oldest is forgotten (its event then starts a new budget).
 * Per replica: an event whose faults happen on several replicas may be tried up to `maxDeliver`
 * times on each.
 */
export class FaultCounts {
  private readonly counts = new Map<number, number>();

  constructor(private readonly limit = 10_000) {}

  get(seq: number): number {
    return this.counts.get(seq) ?? 0;
  }

  add(seq: number): number {
    const count = this.get(seq) + 1;
    this.counts.delete(seq);
    this.counts.set(seq, count);
    if (this.counts.size > this.limit) this.counts.delete(this.counts.keys().next().value!);
    return count;
  }

  forget(seq: number): void {
    this.counts.delete(seq);
  }
}

async function deadLetterAndTerm(handling: DeliveryHandling, message: JsMsg, eventId: string, reason: string, cause?: unknown): Promise<void> {
  const deliveryCount = message.info.deliveryCount;
  try {
    await handling.deadLetter(message, eventId, reason);
  } catch (error) {
    // Not stored anywhere yet: keep it in the stream and try again later.
    message.nak(redeliveryDelay(handling.backoffMs, deliveryCount));
    handling.emit({ type: "error", eventId, deliveryCount, reason: `dead-letter failed: ${reason}`, error });
    return;
  }
  message.term(reason);
  handling.faults.forget(message.seq);
  handling.lastFinished = message;
  handling.emit({ type: "dead-lettered", eventId, deliveryCount, reason, error: cause });
}

function readEventId(message: JsMsg): string {
  return message.headers?.get(HEADERS.eventId) || message.headers?.get("Nats-Msg-Id") || `${message.info.stream}:${message.seq}`;
}

const MSG_ID = "Nats-Msg-Id";

/** A delivery and whether it is a copy: one that names its event in Mw-Event-Id while JetStream stored it under another msg id. */
type Delivery = EventDelivery & { readonly copy: boolean };

/**
 * The delivery as the handler sees it. Only the four headers every delivery needs are read, in
 * one pass (nats-core's get() lists every header name per call; exact names, as the publisher
 * writes them); the record of all headers is built when asked for: building it per event was
 * half of the consumer's own time in the bench profile. An object literal with a getter, so a
 * spread copy (`{ ...delivery }`) still carries the headers.
 */
function readDelivery(message: JsMsg, deadline: number): Delivery {
  let namedEventId = "";
  let msgId = "";
  let tenant = "";
  let traceparent = "";
  for (const [key, values] of message.headers ?? []) {
    const value = values[0] ?? "";
    switch (key) {
      case HEADERS.eventId: namedEventId ||= value; break;
      case MSG_ID: msgId ||= value; break;
      case HEADERS.tenant: tenant ||= value; break;
      case HEADERS.traceparent: traceparent ||= value; break;
    }
  }
  let record: Record<string, string> | undefined;
  return {
    eventId: namedEventId || msgId || `${message.info.stream}:${message.seq}`,
    deliveryCount: message.info.deliveryCount,
    subject: message.subject,
    tenant,
    traceparent,
    deadline,
    copy: namedEventId !== "" && namedEventId !== msgId,
    get headers(): Readonly<Record<string, string>> {
      if (!record) {
        record = {};
        for (const [key, values] of message.headers ?? []) {
          if (values[0] !== undefined) record[key] = values[0];
        }
      }
      return record;
    },
  };
}
