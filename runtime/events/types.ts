/** Types shared by the event publisher and consumer. */

/** What a consumer's `process` learns about one delivery besides the payload. */
export interface EventDelivery {
  readonly eventId: string;
  /** 1 on the first delivery, then +1 per redelivery (JetStream's count). */
  readonly deliveryCount: number;
  readonly subject: string;
  /** The message's headers, first value of each. */
  readonly headers: Readonly<Record<string, string>>;
  /** "" when the event carries no tenant. */
  readonly tenant: string;
  /** "" when the event carries no trace context. */
  readonly traceparent: string;
  /** Epoch ms after which JetStream redelivers the event elsewhere (receipt + ack wait). */
  readonly deadline: number;
}

/** Remembers which events a consumer has processed, so redeliveries are not processed twice. */
/** What the dedupe store knows of a delivery. */
export interface ProcessedEventRef {
  readonly eventId: string;
  /** The stream sequence: a redelivery keeps it, a copy under another msg id gets a new one. */
  readonly streamSequence: number;
  /** Stored under another msg id than its event id (a dead letter put back, a republish). */
  readonly copy: boolean;
}

export interface EventDedupe {
  seen(event: ProcessedEventRef): Promise<boolean>;
  /** Settles when the id is stored; ids stored together may share one promise. */
  record(event: ProcessedEventRef): Promise<void>;
  /** Ids waiting to be stored; past a bound, deliveries wait for their record (backpressure). */
  readonly backlog?: number;
}

export type ConsumerEventType = "processed" | "duplicate" | "retry" | "dead-lettered" | "error";

/** Emitted once per outcome, for the caller's metrics and logs. */
export interface ConsumerEvent {
  readonly type: ConsumerEventType;
  readonly eventId?: string;
  readonly deliveryCount?: number;
  readonly reason?: string;
  readonly durationMs?: number;
  /** The original error, for "error" and handler failures (never sent anywhere). */
  readonly error?: unknown;
}

export type ConsumerEventListener = (event: ConsumerEvent) => void;
