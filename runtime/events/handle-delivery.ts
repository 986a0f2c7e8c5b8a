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
import { Delivery } from "./read-delivery.ts";
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
  const delivery = new Delivery(message, receivedAt + handling.ackWaitMs);
  const { eventId, deliveryCount, streamSequence } = delivery;
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
  const ref: ProcessedEventRef = { eventId, streamSequence, copy: delivery.copy };
  let seen: boolean;
  try {
    seen = deliveryCount > 1 || ref.copy ? ((await handling.dedupe?.seen(ref)) ?? false) : false;
  } catch (error) {
    await handleFailure(handling, message, delivery, "dedupe", error);
    return;
  }
  if (seen) {
    handling.faults.forget(streamSequence);
    ackSoon(handling, message);
    handling.emit({ type: "duplicate", eventId, deliveryCount });
    return;
  }
  try {
    await handling.process(parsed.value, delivery);
  } catch (error) {
    await handleFailure(handling, message, delivery, "handler", error);
    return;
  }
  handling.faults.forget(streamSequence);
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

async function handleFailure(handling: DeliveryHandling, message: JsMsg, delivery: Delivery, stage: "handler" | "dedupe", error: unknown): Promise<void> {
  const { eventId, deliveryCount, streamSequence } = delivery;
  const failure = classifyThrown(error);
  const reason = `${stage}: ${failure.detail}`;
  const kind = deliveryFailureKind(failure, error, stage);
  if (kind === "terminal") {
    await deadLetterAndTerm(handling, message, eventId, reason, error);
    return;
  }
  // JetStream's delivery count also counts deliveries that met an outage, so the budget is
  // counted here, by faults alone.
  const faults = kind === "fault" ? handling.faults.add(streamSequence) : handling.faults.get(streamSequence);
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
