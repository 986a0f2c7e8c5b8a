/**
 * Dead-lettering: the original event, unchanged, goes to `dlq.<consumer>.<subject>` in the
 * consuming actor's DLQ stream with headers saying why. The msg id
 * `<durable>:<eventId>:<stream sequence>` makes a repeated dead-lettering of the same stored
 * message (after a crash between publish and term) a no-op, while a replayed copy (`mesh dlq
 * replay`, stored under a new sequence) that fails again is dead-lettered again, not dropped.
 */
import { headers as createHeaders } from "@nats-io/nats-core";
import type { JetStreamClient, JsMsg } from "@nats-io/jetstream";
import { HEADERS } from "../../protocol/headers.ts";
import { deadLetterSubject } from "../../protocol/subjects.ts";

export const DLQ_HEADERS = {
  reason: "Mw-Dlq-Reason",
  deliveryCount: "Mw-Dlq-Delivery-Count",
  originalSubject: "Mw-Dlq-Original-Subject",
  consumer: "Mw-Dlq-Consumer",
} as const;

const MAX_REASON_LENGTH = 300;

export interface DeadLetterTarget {
  readonly js: JetStreamClient;
  readonly consumerActor: string;
  readonly durable: string;
  readonly timeoutMs: number;
}

export async function deadLetter(target: DeadLetterTarget, message: JsMsg, eventId: string, reason: string): Promise<void> {
  const headers = createHeaders();
  for (const [key, values] of message.headers ?? []) {
    // JetStream's own headers (msg id, expectations) would change how the copy is stored.
    if (key.toLowerCase().startsWith("nats-")) continue;
    for (const value of values) headers.append(key, value);
  }
  headers.set(HEADERS.eventId, eventId);
  headers.set(DLQ_HEADERS.reason, toHeaderValue(reason));
  headers.set(DLQ_HEADERS.deliveryCount, String(message.info.deliveryCount));
  headers.set(DLQ_HEADERS.originalSubject, message.subject);
  headers.set(DLQ_HEADERS.consumer, target.durable);
  await target.js.publish(deadLetterSubject(target.consumerActor, message.subject), message.data, {
    msgID: `${target.durable}:${eventId}:${message.seq}`,
    headers,
    timeout: target.timeoutMs,
  });
}

/** Header values are single-line. */
function toHeaderValue(text: string): string {
  const line = text.replace(/[\r\n]+/g, " ");
  return line.length > MAX_REASON_LENGTH ? `${line.slice(0, MAX_REASON_LENGTH - 3)}...` : line;
}
