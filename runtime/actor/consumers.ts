import type { NatsConnection } from "@nats-io/nats-core";
import type { Db } from "mongodb";
import { mongoDedupe, startEventConsumer } from "../events/index.ts";
import type { ActorMetrics } from "../observability/metrics.ts";
import type { ActorDefinition, ConsumerSpec } from "../types.ts";
import { Work, type ActorEnvironment } from "./work-context.ts";

const LAG_POLL_MS = 5000;

function producerOf(subject: string): string {
  const [, producer] = subject.split(".");
  if (!producer) throw new Error(`event subject ${subject} does not follow events.<actor>.<event>`);
  return producer;
}

/** Starts the actor's durable event consumers and polls their lag into metrics. */
export async function startConsumers(options: {
  nc: NatsConnection;
  definition: ActorDefinition;
  environment: ActorEnvironment;
  metrics: ActorMetrics;
  db: Db;
}): Promise<{ stop(): Promise<void> }> {
  const { nc, definition, environment, metrics, db } = options;
  const running = await Promise.all((definition.consumers ?? []).map(async (spec: ConsumerSpec) => {
    const durableHint = `${definition.name}--${spec.event.subject.split(".").slice(2).join("_")}`;
    // Metric children bound once per outcome: no label hashing per event.
    const children = new Map<string, { inc(): void }>();
    const outcomes = (outcome: string) => {
      let child = children.get(outcome);
      if (!child) children.set(outcome, (child = metrics.events.labels({ consumer: durableHint, outcome })));
      return child;
    };
    const consumer = await startEventConsumer({
      nc,
      consumerActor: definition.name,
      producerActor: producerOf(spec.event.subject),
      spec,
      dedupe: spec.dedupe === false ? undefined : mongoDedupe(db, durableHint),
      process: async (payload, delivery) => {
        const work = new Work(environment, {
          tenant: delivery.tenant,
          idempotencyKey: undefined,
          deadline: Date.now() + (spec.ackWaitMs ?? 30_000),
          traceparent: delivery.traceparent,
          traceId: delivery.traceparent.slice(3, 35),
          callerService: "",
        }, delivery.subject);
        try {
          await spec.handler(payload, Object.assign(work, { eventId: delivery.eventId, deliveryCount: delivery.deliveryCount }));
        } finally {
          work.finish();
        }
      },
      onEvent: (event) => {
        outcomes(event.type).inc();
        if (event.type === "dead-lettered" || event.type === "error") {
          environment.log.warn({ consumer: durableHint, eventId: event.eventId, reason: event.reason }, `event ${event.type}`);
        }
      },
    });
    return { consumer, durableHint };
  }));
  const poll = setInterval(() => {
    for (const { consumer, durableHint } of running) {
      consumer.info().then((info) => {
        metrics.consumerPending.set({ consumer: durableHint }, info.pending);
        metrics.consumerAckPending.set({ consumer: durableHint }, info.ackPending);
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
