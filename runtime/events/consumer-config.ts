/** The durable consumer of one event for one consuming actor, shared by all its replicas. */
import { AckPolicy, DeliverPolicy, JetStreamApiError, type ConsumerConfig, type JetStreamManager } from "@nats-io/jetstream";
import { nanos } from "@nats-io/nats-core";
import { ACTOR_NAME } from "../../protocol/subjects.ts";
import { MeshError } from "../errors.ts";

export interface EventSubjectParts {
  readonly producerActor: string;
  readonly eventName: string;
}

/** `events.<actor>.<event>` -> its parts; anything else is a programming error. */
export function parseEventSubject(subject: string): EventSubjectParts {
  const [prefix, producerActor, ...rest] = subject.split(".");
  const eventName = rest.join(".");
  if (prefix !== "events" || producerActor === undefined || !ACTOR_NAME.test(producerActor) || eventName === "" || /[\s*>]/.test(subject)) {
    throw new MeshError("INTERNAL", `not an event subject: ${subject}`);
  }
  return { producerActor, eventName };
}

/** `<consumer>--<event>`, with characters NATS forbids in names (dots) replaced. */
export function durableName(consumerActor: string, eventName: string): string {
  return `${consumerActor}--${eventName}`.replace(/[^A-Za-z0-9_-]/g, "_");
}

export interface DurableSettings {
  readonly durable: string;
  readonly filterSubject: string;
  readonly maxAckPending: number;
  readonly ackWaitMs: number;
  /** Deliveries after which we dead-letter; the server limit is one more, as a safety net. */
  readonly maxDeliver: number;
}

/** Identical `add`s from replicas starting together all succeed; a changed spec becomes an update. */
export async function ensureDurableConsumer(jsm: JetStreamManager, stream: string, settings: DurableSettings): Promise<void> {
  const updatable = {
    filter_subject: settings.filterSubject,
    max_ack_pending: settings.maxAckPending,
    ack_wait: nanos(settings.ackWaitMs),
    // Unlimited on the server: deliveries to a replica that died still count, and a server-side
    // limit would then drop the event silently. We dead-letter at maxDeliver ourselves.
    max_deliver: -1,
  } satisfies Partial<ConsumerConfig>;
  try {
    await jsm.consumers.add(stream, {
      ...updatable,
      durable_name: settings.durable,
      ack_policy: AckPolicy.Explicit,
      // A consumer attached later also sees the events still retained in the stream.
      deliver_policy: DeliverPolicy.All,
    });
  } catch (error) {
    if (!(error instanceof JetStreamApiError) || !isAlreadyExists(error)) throw error;
    await jsm.consumers.update(stream, settings.durable, updatable);
  }
}

function isAlreadyExists(error: JetStreamApiError): boolean {
  // JSConsumerAlreadyExists (10148) / JSConsumerNameExistErr (10013)
  return error.code === 10148 || error.code === 10013;
}
