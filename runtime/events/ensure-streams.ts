/**
 * Streams are created or updated idempotently at start. Several replicas may start at
 * once: an identical `add` succeeds on the server, and a differing one is turned into
 * an update, so no start order is needed.
 */
import {
  DiscardPolicy,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/nats-core";
import { ACTOR_NAME, deadLetterStreamName, streamName } from "../../protocol/subjects.ts";
import { MeshError } from "../errors.ts";

const DAY_MS = 24 * 60 * 60 * 1000;
export const EVENT_STREAM_DEFAULTS = { maxAgeMs: 7 * DAY_MS, duplicateWindowMs: 2 * 60 * 1000 } as const;
export const DEAD_LETTER_MAX_AGE_MS = 14 * DAY_MS;

/** JSStreamNameExistErr: "stream name already in use with a different configuration". */
const STREAM_NAME_IN_USE = 10058;

export interface EventStreamOptions {
  readonly maxAgeMs?: number;
  readonly duplicateWindowMs?: number;
  /** Copies kept by a NATS cluster (1 on a single server; 3 on a 3-node cluster survives a node's loss). Default 1. */
  readonly replicas?: number;
}

/** The producer's stream `EVENTS_<ACTOR>` on `events.<actor>.>`; options changed since last start are applied. */
export async function ensureEventStream(jsm: JetStreamManager, actor: string, options: EventStreamOptions = {}): Promise<StreamInfo> {
  return createOrUpdate(jsm, eventStreamConfig(actor, options));
}

/**
 * Creates the producer's stream with default options only if it is missing, so a consumer
 * can start before its producer without overriding the producer's own options.
 */
export async function ensureEventStreamExists(jsm: JetStreamManager, actor: string, replicas = 1): Promise<void> {
  try {
    await jsm.streams.add(eventStreamConfig(actor, { replicas }));
  } catch (error) {
    if (!hasApiCode(error, STREAM_NAME_IN_USE)) throw error;
  }
}

/** The consuming actor's dead-letter stream `DLQ_<ACTOR>` on `dlq.<actor>.>`. */
export async function ensureDeadLetterStream(jsm: JetStreamManager, consumerActor: string, replicas = 1): Promise<StreamInfo> {
  assertActorName(consumerActor);
  assertReplicas(replicas);
  return createOrUpdate(jsm, {
    name: deadLetterStreamName(consumerActor),
    subjects: [`dlq.${consumerActor}.>`],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_age: nanos(DEAD_LETTER_MAX_AGE_MS),
    duplicate_window: nanos(EVENT_STREAM_DEFAULTS.duplicateWindowMs),
    num_replicas: replicas,
  });
}

function assertReplicas(replicas: number): void {
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5) throw new MeshError("INTERNAL", "stream replicas must be an integer from 1 to 5");
}

function eventStreamConfig(actor: string, options: EventStreamOptions): StreamConfigInput {
  assertActorName(actor);
  const maxAgeMs = options.maxAgeMs ?? EVENT_STREAM_DEFAULTS.maxAgeMs;
  const duplicateWindowMs = options.duplicateWindowMs ?? EVENT_STREAM_DEFAULTS.duplicateWindowMs;
  if (!(maxAgeMs > 0) || !(duplicateWindowMs > 0) || duplicateWindowMs > maxAgeMs) {
    throw new MeshError("INTERNAL", "invalid event stream options: need 0 < duplicateWindowMs <= maxAgeMs");
  }
  const replicas = options.replicas ?? 1;
  assertReplicas(replicas);
  return {
    name: streamName(actor),
    subjects: [`events.${actor}.>`],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_age: nanos(maxAgeMs),
    duplicate_window: nanos(duplicateWindowMs),
    num_replicas: replicas,
  };
}

type StreamConfigInput = Partial<StreamConfig> & { name: string; subjects: string[] };

async function createOrUpdate(jsm: JetStreamManager, config: StreamConfigInput): Promise<StreamInfo> {
  try {
    return await jsm.streams.add(config);
  } catch (error) {
    if (!hasApiCode(error, STREAM_NAME_IN_USE)) throw error;
  }
  // Storage and retention cannot change in place; only the updatable fields are sent.
  const { subjects, discard, max_age, duplicate_window } = config;
  return jsm.streams.update(config.name, { subjects, discard, max_age, duplicate_window });
}

export function hasApiCode(error: unknown, code: number): boolean {
  return error instanceof JetStreamApiError && error.code === code;
}

function assertActorName(actor: string): void {
  if (!ACTOR_NAME.test(actor)) throw new MeshError("INTERNAL", `invalid actor name: ${actor}`);
}
