/** Events on JetStream: streams, the publisher, durable consumers, dead letters, dedupe. */
export { ensureEventStream, ensureEventStreamExists, ensureDeadLetterStream, EVENT_STREAM_DEFAULTS, DEAD_LETTER_MAX_AGE_MS } from "./ensure-streams.ts";
export type { EventStreamOptions } from "./ensure-streams.ts";
export { createEventPublisher } from "./event-publisher.ts";
export type { EventPublisher, EventPublisherOptions, EventMeta, PublishedEvent } from "./event-publisher.ts";
export { startEventConsumer } from "./event-consumer.ts";
export type { EventConsumer, EventConsumerInfo, EventConsumerOptions } from "./event-consumer.ts";
export type { ProcessEvent } from "./handle-delivery.ts";
export { durableName, parseEventSubject } from "./consumer-config.ts";
export { DLQ_HEADERS } from "./dead-letter.ts";
export { mongoDedupe, PROCESSED_EVENTS_COLLECTION } from "./processed-events.ts";
export type { MongoDedupe } from "./processed-events.ts";
export type { ConsumerEvent, ConsumerEventListener, ConsumerEventType, EventDedupe, EventDelivery } from "./types.ts";
