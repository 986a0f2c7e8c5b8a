import type { NatsConnection } from "@nats-io/nats-core";
import type { Db } from "mongodb";
import { durableName, mongoDedupe, parseEventSubject, startEventConsumer } from "../events/index.ts";
import type { ActorMetrics } from "../observability/metrics.ts";
import type { ActorDefinition, ConsumerSpec } from "../types.ts";
import { MESH_CALLER } from "../auth/caller-identity.ts";
import { EventWork, type ActorEnvironment } from "./work-context.ts";
import type { EventDelivery } from "../events/types.ts";
import { traceConsume, tracingEnabled } from "../observability/tracing.ts";

const LAG_POLL_MS = 5000;

/** Starts the actor's durable event consumers and polls their lag into metrics. */
export async function startConsumers(options: {
  nc: NatsConnection;
  definition: ActorDefinition;
  environment: ActorEnvironment;
  metrics: ActorMetrics;
  db: Db;
  streamReplicas: number;
}): Promise<{ stop(): Promise<void> }> {
  const { nc, definition, environment, metrics, db } = options;
  // The handler's context for one delivery (an actor-level caller: events come from inside the
  // mesh). The traced path passes its consumer span's traceparent; the delivery is never copied.
  const processDelivery = async (spec: ConsumerSpec, payload: unknown, delivery: EventDelivery, traceparent = delivery.traceparent): Promise<void> => {
    const work = new EventWork(environment, {
      tenant: delivery.tenant,
      idempotencyKey: undefined,
      deadline: delivery.deadline,
      traceparent,
      traceId: traceparent.slice(3, 35),
      callerService: "",
      caller: MESH_CALLER,
    }, delivery.subject, delivery.eventId, delivery.deliveryCount);
    try {
      await spec.handler(payload, work);
    } finally {
      work.finish();
    }
  };
  const running = await Promise.all((definition.consumers ?? []).map(async (spec: ConsumerSpec) => {
    const { producerActor, eventName } = parseEventSubject(spec.event.subject);
    const durable = durableName(definition.name, eventName);
    // Metric children bound once per outcome: no label hashing per event.
    const children = new Map<string, { inc(): void }>();
    const outcomes = (outcome: string) => {
      let child = children.get(outcome);
      if (!child) children.set(outcome, (child = metrics.events.labels({ consumer: durable, outcome })));
      return child;
    };
    const consumer = await startEventConsumer({
      nc,
      consumerActor: definition.name,
      producerActor,
      spec,
      streamReplicas: options.streamReplicas,
      dedupe: spec.dedupe === false ? undefined : mongoDedupe(db, durable),
      process: tracingEnabled()
        ? (payload, delivery) => traceConsume(definition.name, durable, delivery, (traceparent) => processDelivery(spec, payload, delivery, traceparent))
        : (payload, delivery) => processDelivery(spec, payload, delivery),
      onEvent: (event) => {
        outcomes(event.type).inc();
        if (event.type === "dead-lettered" || event.type === "error") {
          environment.log.warn({ consumer: durable, eventId: event.eventId, reason: event.reason }, `event ${event.type}`);
        }
      },
    });
    return { consumer, durable };
  }));
  const poll = setInterval(() => {
    for (const { consumer, durable } of running) {
      consumer.info().then((info) => {
        metrics.consumerPending.set({ consumer: durable }, info.pending);
        metrics.consumerAckPending.set({ consumer: durable }, info.ackPending);
      }, () => {});
    }
  }, LAG_POLL_MS);
  poll.unref();
  return {
    async stop() {
      clearInterval(poll);
      await Promise.all(running.map(({ consumer }) => consumer.stop()));
    },
  };
}
