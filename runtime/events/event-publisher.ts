/**
 * Publishes an actor's own events into its stream. The publish only stores the event
 * (producers never wait on consumers); `Nats-Msg-Id` = event id makes a retried publish
 * inside the stream's duplicate window a no-op.
 */
import { randomUUID } from "node:crypto";
import type { Msg, NatsConnection } from "@nats-io/nats-core";
import { headers as createHeaders } from "@nats-io/nats-core";
import { ReplyInbox } from "../client/reply-inbox.ts";
import { HEADERS } from "../../protocol/headers.ts";
import type { EventContract } from "../../protocol/contract.ts";
import { MeshError } from "../errors.ts";
import { describeIssues } from "../pipeline/decode.ts";

export interface EventPublisherOptions {
  readonly actor: string;
  /** How long to wait for the stream's acknowledgement. Default 5000 ms. */
  readonly timeoutMs?: number;
}

export interface EventMeta {
  readonly eventId?: string;
  readonly tenant?: string;
  readonly traceparent?: string;
  readonly service?: string;
}

export interface PublishedEvent {
  readonly eventId: string;
  /** True when the stream already held this event id (a repeat inside the duplicate window). */
  readonly duplicate: boolean;
}

export interface EventPublisher {
  publish(event: EventContract, payload: unknown, meta?: EventMeta): Promise<PublishedEvent>;
}

const UNAVAILABLE_RETRY_AFTER_MS = 1000;

/**
 * The stream's acknowledgement comes back on one wildcard inbox with correlation tokens (as the
 * mesh client's replies do), not through `js.publish`: that goes through `nc.request()`, which
 * builds two Error objects per call unless the connection turned async traces off, and a
 * response parser and a headers copy per publish (the bench profile: docs in sandbox/bench).
 */
export function createEventPublisher(nc: NatsConnection, options: EventPublisherOptions): EventPublisher {
  const { actor, timeoutMs = 5000 } = options;
  const ownPrefix = `events.${actor}.`;
  let inbox: ReplyInbox | undefined;

  function send(subject: string, body: Uint8Array, headers: ReturnType<typeof createHeaders>): Promise<Msg> {
    return new Promise<Msg>((resolve, reject) => {
      inbox ??= new ReplyInbox(nc);
      const token = inbox.expect(subject, Date.now() + timeoutMs, resolve, reject);
      try {
        nc.publish(subject, body, { reply: inbox.replySubject(token), headers });
      } catch (error) {
        inbox.cancel(token);
        reject(error);
      }
    });
  }

  return {
    async publish(event, payload, meta = {}) {
      if (!event.subject.startsWith(ownPrefix) || event.subject.length === ownPrefix.length) {
        throw new MeshError("INTERNAL", `actor ${actor} may not publish ${event.subject}`);
      }
      const parsed = event.schema.safeParse(payload);
      if (!parsed.success) {
        throw new MeshError("INTERNAL", `invalid ${event.subject} payload: ${describeIssues(parsed.error.issues)}`, { cause: parsed.error });
      }
      const eventId = meta.eventId ?? randomUUID();
      // The event id travels as Nats-Msg-Id only; Mw-Event-Id is for copies stored under another msg id.
      const headers = createHeaders();
      headers.set(MSG_ID, eventId);
      if (meta.tenant) headers.set(HEADERS.tenant, meta.tenant);
      if (meta.traceparent) headers.set(HEADERS.traceparent, meta.traceparent);
      if (meta.service) headers.set(HEADERS.service, meta.service);
      let body: Uint8Array;
      try {
        body = Buffer.from(JSON.stringify(parsed.data));
      } catch (error) {
        throw new MeshError("INTERNAL", `${event.subject} payload is not JSON-serialisable`, { cause: error });
      }
      let ack: Msg;
      try {
        ack = await send(event.subject, body, headers);
      } catch (error) {
        throw new MeshError("UNAVAILABLE", "event stream unavailable", { retryAfterMs: UNAVAILABLE_RETRY_AFTER_MS, cause: error });
      }
      return { eventId, duplicate: readPubAck(ack) };
    },
  };
}

const MSG_ID = "Nats-Msg-Id";
const decoder = new TextDecoder();

/** The stream's answer: `{"stream":…,"seq":…,"duplicate":true}`, an error, or "no responders" (no stream). Returns `duplicate`. */
function readPubAck(msg: Msg): boolean {
  if (msg.headers?.hasError) {
    throw new MeshError("UNAVAILABLE", `event stream unavailable (status ${msg.headers.code})`, { retryAfterMs: UNAVAILABLE_RETRY_AFTER_MS });
  }
  let ack: { duplicate?: boolean; seq?: number; error?: { description?: string } };
  try {
    ack = JSON.parse(decoder.decode(msg.data)) as typeof ack;
  } catch (error) {
    throw new MeshError("UNAVAILABLE", "event stream gave an unreadable acknowledgement", { retryAfterMs: UNAVAILABLE_RETRY_AFTER_MS, cause: error });
  }
  if (ack.error || typeof ack.seq !== "number") {
    throw new MeshError("UNAVAILABLE", `event stream refused the event: ${ack.error?.description ?? "no sequence"}`, { retryAfterMs: UNAVAILABLE_RETRY_AFTER_MS });
  }
  return ack.duplicate === true;
}
