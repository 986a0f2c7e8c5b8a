/**
 * What a delivery carries, read as cheaply as the consume path allows: it runs once per event,
 * and in the bench profile reading the delivery was half of the consumer's own time and a
 * quarter of what it allocated (nats-core decodes a header block into a Map of arrays, checking
 * and re-casing every name; jetstream splits the ack subject into a dozen strings for `info`).
 * - Headers: the four every delivery needs (`Mw-Event-Id`, `Nats-Msg-Id`, `Mw-Tenant`,
 *   `traceparent`; exact names, as the publisher writes them, first occurrence) are read in one
 *   pass over the header block's text. The record of every header (`headers`) is nats-core's
 *   decode, done only when a handler asks for it.
 * - Delivery count and stream sequence: read from the ack subject's digits, no split.
 * The header block's text comes from nats-core's `MsgImpl` internals (runtime/pipeline/header-block.ts);
 * a message without them is read through the public `headers` and `info`, with the same result
 * (`read-delivery.test.ts` checks both ways).
 */
import type { JsMsg } from "@nats-io/jetstream";
import { HEADERS } from "../../protocol/headers.ts";
import { headerBlockText } from "../pipeline/header-block.ts";
import type { EventDelivery } from "./types.ts";

const MSG_ID = "Nats-Msg-Id";

/** A delivery as the handler sees it, plus what the consumer needs of it. */
export class Delivery implements EventDelivery {
  readonly eventId: string;
  readonly deliveryCount: number;
  /** The stream sequence: a redelivery keeps it, a copy under another msg id gets a new one. */
  readonly streamSequence: number;
  readonly subject: string;
  readonly tenant: string;
  readonly traceparent: string;
  readonly deadline: number;
  /** A copy names its event in Mw-Event-Id while JetStream stored it under another msg id. */
  readonly copy: boolean;
  readonly #message: JsMsg;
  #headers: Readonly<Record<string, string>> | undefined;

  constructor(message: JsMsg, deadline: number) {
    this.#message = message;
    this.subject = message.subject;
    this.deadline = deadline;
    const fields = readHeaderFields(message);
    this.tenant = fields.tenant;
    this.traceparent = fields.traceparent;
    this.copy = fields.namedEventId !== "" && fields.namedEventId !== fields.msgId;
    const reply = replyOf(message);
    let deliveryCount = reply === undefined ? Number.NaN : ackSubjectNumber(reply, 0);
    let streamSequence = reply === undefined ? Number.NaN : ackSubjectNumber(reply, 1);
    if (!(deliveryCount >= 1 && streamSequence >= 1)) {
      // Not an ack subject we can read by its digits: jetstream's parser decides (and throws
      // for a message that is not a JetStream delivery, as it always did).
      deliveryCount = message.info.deliveryCount;
      streamSequence = message.info.streamSequence;
    }
    this.deliveryCount = deliveryCount;
    this.streamSequence = streamSequence;
    this.eventId = fields.namedEventId || fields.msgId || `${message.info.stream}:${streamSequence}`;
  }

  /** The message's headers, first value of each (built on first use). */
  get headers(): Readonly<Record<string, string>> {
    if (!this.#headers) {
      const record: Record<string, string> = {};
      for (const [key, values] of this.#message.headers ?? []) {
        if (values[0] !== undefined) record[key] = values[0];
      }
      this.#headers = record;
    }
    return this.#headers;
  }
}

interface HeaderFields {
  namedEventId: string;
  msgId: string;
  tenant: string;
  traceparent: string;
}

/** One object reused by every read: the constructor copies the fields out at once. */
const scratch: HeaderFields = { namedEventId: "", msgId: "", tenant: "", traceparent: "" };

function readHeaderFields(message: JsMsg): HeaderFields {
  scratch.namedEventId = "";
  scratch.msgId = "";
  scratch.tenant = "";
  scratch.traceparent = "";
  const text = headerBlockText((message as { msg?: unknown }).msg);
  if (text !== undefined) readHeaderText(text, scratch);
  else readParsedHeaders(message, scratch);
  return scratch;
}

const FOUND_EVENT_ID = 1;
const FOUND_MSG_ID = 2;
const FOUND_TENANT = 4;
const FOUND_TRACEPARENT = 8;

/**
 * Lines after the status line are `Name: value`; as nats-core reads them: the name runs to the
 * first colon, the value is the rest, trimmed.
 */
export function readHeaderText(text: string, into: HeaderFields): void {
  let found = 0;
  let lineEnd = text.indexOf("\r\n");
  while (lineEnd >= 0 && found !== 15) {
    const start = lineEnd + 2;
    lineEnd = text.indexOf("\r\n", start);
    const end = lineEnd < 0 ? text.length : lineEnd;
    const colon = text.indexOf(":", start);
    if (colon < 0 || colon >= end) continue;
    const nameLength = colon - start;
    let field = 0;
    if (nameLength === MSG_ID.length && text.startsWith(MSG_ID, start)) field = FOUND_MSG_ID;
    else if (nameLength === HEADERS.eventId.length && text.startsWith(HEADERS.eventId, start)) field = FOUND_EVENT_ID;
    else if (nameLength === HEADERS.tenant.length && text.startsWith(HEADERS.tenant, start)) field = FOUND_TENANT;
    else if (nameLength === HEADERS.traceparent.length && text.startsWith(HEADERS.traceparent, start)) field = FOUND_TRACEPARENT;
    if (field === 0 || (found & field) !== 0) continue;
    found |= field;
    const value = text.slice(colon + 1, end).trim();
    if (field === FOUND_MSG_ID) into.msgId = value;
    else if (field === FOUND_EVENT_ID) into.namedEventId = value;
    else if (field === FOUND_TENANT) into.tenant = value;
    else into.traceparent = value;
  }
}

function readParsedHeaders(message: JsMsg, into: HeaderFields): void {
  const headers = message.headers;
  if (!headers) return;
  into.namedEventId = headers.get(HEADERS.eventId);
  into.msgId = headers.get(MSG_ID);
  into.tenant = headers.get(HEADERS.tenant);
  into.traceparent = headers.get(HEADERS.traceparent);
}

function replyOf(message: JsMsg): string | undefined {
  const msg = (message as { msg?: { reply?: unknown } }).msg;
  return typeof msg?.reply === "string" ? msg.reply : undefined;
}

const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/**
 * The delivery count (`which` 0) or stream sequence (1) of an ack subject, NaN when it is not
 * one. `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ts>.<pending>` (9 tokens) or, with
 * domain and account hash after ACK, 11 or more (as jetstream's parseInfo reads them).
 */
export function ackSubjectNumber(subject: string, which: 0 | 1): number {
  if (!subject.startsWith("$JS.ACK.")) return Number.NaN;
  let tokens = 1;
  for (let i = 0; i < subject.length; i++) if (subject.charCodeAt(i) === DOT) tokens++;
  const first = tokens === 9 ? 4 : tokens >= 11 ? 6 : -1;
  if (first < 0) return Number.NaN;
  let position = 0;
  for (let token = 0; token < first + which; token++) position = subject.indexOf(".", position) + 1;
  let value = 0;
  let digits = 0;
  for (let i = position; i < subject.length; i++) {
    const code = subject.charCodeAt(i);
    if (code === DOT) break;
    if (code < ZERO || code > NINE) return Number.NaN;
    value = value * 10 + (code - ZERO);
    digits++;
  }
  return digits > 0 ? value : Number.NaN;
}
