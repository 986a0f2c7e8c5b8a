/**
 * Publishes an actor's own events into its stream. The publish only stores the event
 * (producers never wait on consumers); `Nats-Msg-Id` = event id makes a retried publish
 * inside the stream's duplicate window a no-op.
 */
import { randomUUID } from "node:crypto";
import type { NatsConnection } from "@nats-io/nats-core";
import { headers as createHeaders } from "@nats-io/nats-core";
import { jetstream } from "@nats-io/jetstream";
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

export function createEventPublisher(nc: NatsConnection, options: EventPublisherOptions): EventPublisher {
  const { actor, timeoutMs = 5000 } = options;
  const ownPrefix = `events.${actor}.`;
  const js = jetstream(nc, { timeout: timeoutMs });

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
      if (meta.tenant) headers.set(HEADERS.tenant, meta.tenant);
      if (meta.traceparent) headers.set(HEADERS.traceparent, meta.traceparent);
      if (meta.service) headers.set(HEADERS.service, meta.service);
      let body: string;
      try {
        body = JSON.stringify(parsed.data);
      } catch (error) {
        throw new MeshError("INTERNAL", `${event.subject} payload is not JSON-serialisable`, { cause: error });
      }
      try {
        const ack = await js.publish(event.subject, body, { msgID: eventId, headers, timeout: timeoutMs });
        return { eventId, duplicate: ack.duplicate };
      } catch (error) {
        throw new MeshError("UNAVAILABLE", "event stream unavailable", { retryAfterMs: UNAVAILABLE_RETRY_AFTER_MS, cause: error });
      }
    },
  };
}
