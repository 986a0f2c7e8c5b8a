/**
 * The bare relay of (f) from the caller's side: its subjects, its event stream and the two
 * ways of calling it (see llm-relay-main.ts for what a relay does).
 */
import { jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import { nanos, type NatsConnection } from "@nats-io/nats-core";

export const RELAY_SUBJECT = "bench.relay.complete";
export const RELAY_EVENT_SUBJECT = "bench.relay.complete-with-event";
export const RELAY_QUEUE = "bench-relay";
export const RELAY_STREAM = "RELAY_BENCH";
export const RELAY_USAGE_SUBJECT = "relay-bench.usage";

export interface RelayRequest {
  readonly model: string;
  readonly messages: Array<{ role: "user"; content: string }>;
  readonly maxTokens: number;
  readonly temperature: number;
}

/** The stream the relay's per-call events go to: file storage, as the mesh's event streams. */
export async function ensureRelayStream(nc: NatsConnection): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({
    name: RELAY_STREAM, subjects: ["relay-bench.>"], storage: StorageType.File, retention: RetentionPolicy.Limits,
    max_age: nanos(24 * 3600_000), duplicate_window: nanos(120_000),
  });
}

/** One completion through the relay (`withEvent`: plus its durable per-call event); rejects on a relayed error. */
export async function callRelay(nc: NatsConnection, request: RelayRequest, withEvent: boolean): Promise<unknown> {
  const reply = await nc.request(withEvent ? RELAY_EVENT_SUBJECT : RELAY_SUBJECT, JSON.stringify(request), { timeout: 30_000 });
  const answer = reply.json<{ error?: string }>();
  if (answer.error) throw new Error(answer.error);
  return answer;
}
