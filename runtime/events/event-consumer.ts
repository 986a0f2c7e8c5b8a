/**
 * Consumes one event for one consuming actor. All replicas of that actor share one durable
 * pull consumer on the producer's stream, so each event is handled by one replica; the
 * order of handling is not guaranteed (a batch runs concurrently, retries come later).
 * Delivery is at least once: `dedupe` makes a redelivered, already processed event a no-op,
 * but two deliveries running at the same moment (ack wait exceeded) may both run.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { jetstreamManager } from "@nats-io/jetstream";
import { streamName } from "../../protocol/subjects.ts";
import type { ConsumerSpec } from "../types.ts";
import { isMeshError, MeshError } from "../errors.ts";
import { durableName, ensureDurableConsumer, parseEventSubject, type DurableSettings } from "./consumer-config.ts";
import { deadLetter } from "./dead-letter.ts";
import { ensureDeadLetterStream, ensureEventStreamExists } from "./ensure-streams.ts";
import { confirmAcks, FaultCounts, handleDelivery, type DeliveryHandling, type ProcessEvent } from "./handle-delivery.ts";
import { startPullLoop } from "./pull-loop.ts";
import { DEFAULT_BACKOFF_MS } from "./retry-policy.ts";
import type { ConsumerEventListener, EventDedupe } from "./types.ts";

export interface EventConsumerOptions {
  readonly nc: NatsConnection;
  readonly consumerActor: string;
  /** Derived from the event subject; when given it must match it. */
  readonly producerActor?: string;
  readonly spec: ConsumerSpec;
  /** Receives the schema-validated payload; throw to retry (or a terminal MeshError to dead-letter). */
  readonly process: ProcessEvent;
  readonly dedupe?: EventDedupe;
  readonly onEvent?: ConsumerEventListener;
  /** Timeout of JetStream calls (dead-letter publish, ack confirmation). Default 5000 ms. */
  readonly timeoutMs?: number;
  /** Replicas of the streams this creates when missing (the producer's, the dead letters'); the durable inherits its stream's. Default 1. */
  readonly streamReplicas?: number;
}

export interface EventConsumerInfo {
  readonly durable: string;
  /** Events in the stream not yet delivered to this consumer (lag). */
  readonly pending: number;
  /** Delivered, not yet acknowledged. */
  readonly ackPending: number;
  readonly redelivered: number;
}

export interface EventConsumer {
  readonly durable: string;
  /** Stops pulling, lets running handlers finish (ack or nak), then resolves. */
  stop(): Promise<void>;
  info(): Promise<EventConsumerInfo>;
}

export async function startEventConsumer(options: EventConsumerOptions): Promise<EventConsumer> {
  const { nc, consumerActor, spec } = options;
  const { producerActor, eventName } = parseEventSubject(spec.event.subject);
  if (options.producerActor !== undefined && options.producerActor !== producerActor) {
    throw new MeshError("INTERNAL", `${spec.event.subject} is not an event of ${options.producerActor}`);
  }
  const stream = streamName(producerActor);
  const durable = durableName(consumerActor, eventName);
  const settings: DurableSettings = {
    durable,
    filterSubject: spec.event.subject,
    maxAckPending: positiveInteger(spec.maxAckPending ?? 256, "maxAckPending"),
    ackWaitMs: positiveInteger(spec.ackWaitMs ?? 30_000, "ackWaitMs"),
    maxDeliver: positiveInteger(spec.maxDeliver ?? 5, "maxDeliver"),
  };
  const batchSize = positiveInteger(spec.batchSize ?? 32, "batchSize");
  const timeoutMs = options.timeoutMs ?? 5000;
  const backoffMs = spec.backoffMs ?? DEFAULT_BACKOFF_MS;
  if (!backoffMs.every((step) => Number.isFinite(step) && step >= 0)) {
    throw new MeshError("INTERNAL", "consumer backoffMs must hold non-negative numbers");
  }
  const emit: ConsumerEventListener = (event) => {
    try {
      options.onEvent?.(event);
    } catch {
      // A listener's bug must not stop consumption.
    }
  };

  const jsm = await jetstreamManager(nc, { timeout: timeoutMs }).catch(unavailable);
  const js = jsm.jetstream();
  const consumer = await (async () => {
    await ensureEventStreamExists(jsm, producerActor, options.streamReplicas);
    await ensureDeadLetterStream(jsm, consumerActor, options.streamReplicas);
    await ensureDurableConsumer(jsm, stream, settings);
    return js.consumers.get(stream, durable);
  })().catch(unavailable);

  const handling: DeliveryHandling = {
    schema: spec.event.schema,
    maxDeliver: settings.maxDeliver,
    backoffMs,
    ackWaitMs: settings.ackWaitMs,
    process: options.process,
    dedupe: options.dedupe,
    deadLetter: deadLetter.bind(null, { js, consumerActor, durable, timeoutMs }),
    emit,
    pendingRecords: new Set<Promise<void>>(),
    faults: new FaultCounts(),
    maxPendingRecords: batchSize * 256,
    lastFinished: undefined,
  };
  const loop = startPullLoop({
    consumer,
    concurrency: batchSize,
    handle: (message, receivedAt) => handleDelivery(handling, message, receivedAt),
    recreateConsumer: () => ensureDurableConsumer(jsm, stream, settings),
    isConnectionClosed: () => nc.isClosed(),
    onError: (reason, error) => emit({ type: "error", reason, error }),
    workingAfterMs: settings.ackWaitMs / 4,
  });

  let stopped: Promise<void> | undefined;
  return {
    durable,
    stop() {
      stopped ??= (async () => {
        await loop.stop();
        await Promise.allSettled(handling.pendingRecords);
        // Acks, naks and terms are plain publishes: write the queued ones, then wait until the
        // server has applied them, so a consumer read after stop() sees them.
        await confirmAcks(handling, timeoutMs);
        if (!nc.isClosed()) await nc.flush().catch(() => undefined);
      })();
      return stopped;
    },
    async info() {
      const info = await jsm.consumers.info(stream, durable).catch(unavailable);
      return { durable, pending: info.num_pending, ackPending: info.num_ack_pending, redelivered: info.num_redelivered };
    },
  };
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new MeshError("INTERNAL", `consumer ${name} must be a positive integer`);
  return value;
}

function unavailable(error: unknown): never {
  if (isMeshError(error)) throw error;
  throw new MeshError("UNAVAILABLE", "event stream unavailable", { retryAfterMs: 1000, cause: error });
}
