/**
 * Reading and replaying an actor's dead letters (`DLQ_<ACTOR>`, written by
 * runtime/events/dead-letter.ts). A replay publishes the original body and headers back to the
 * original subject under the event's id, then removes the dead letter. The copy is processed
 * once: JetStream drops a second publish of the same replay inside the duplicate window, and
 * consumers look up copies (`Mw-Event-Id`) in the event ids they recorded after it.
 */
import { headers as createHeaders, type NatsConnection } from "@nats-io/nats-core";
import { JetStreamApiError, jetstreamManager, type JetStreamManager, type StoredMsg } from "@nats-io/jetstream";
import { HEADERS } from "../../protocol/headers.ts";
import { deadLetterStreamName } from "../../protocol/subjects.ts";
import { DLQ_HEADERS } from "../../runtime/events/dead-letter.ts";
import { CliError } from "./cli-io.ts";

export interface DeadLetter {
  readonly seq: number;
  readonly time: string;
  readonly eventId: string;
  readonly consumer: string;
  readonly originalSubject: string;
  readonly deliveryCount: number;
  readonly reason: string;
  readonly tenant: string;
}

/** JSStreamNotFoundErr */
const STREAM_NOT_FOUND = 10059;
/** The DLQ is read a message at a time; a mesh with more dead letters than this has bigger problems. */
const MAX_LISTED = 10_000;

/** Every dead letter of the actor, oldest first; none when it never dead-lettered (no stream yet). */
export async function listDeadLetters(nc: NatsConnection, actor: string): Promise<DeadLetter[]> {
  const jsm = await jetstreamManager(nc);
  return (await readDeadLetters(jsm, actor)).map(describe);
}

export interface ReplayResult {
  readonly replayed: DeadLetter[];
}

/**
 * Replays the given sequences (or all). Every sequence is checked before anything is replayed, so
 * an unknown one replays nothing.
 */
export async function replayDeadLetters(nc: NatsConnection, actor: string, selection: "all" | readonly number[]): Promise<ReplayResult> {
  const jsm = await jetstreamManager(nc);
  const stream = deadLetterStreamName(actor);
  const stored = await readDeadLetters(jsm, actor);
  let chosen: StoredMsg[];
  if (selection === "all") {
    chosen = stored;
  } else {
    const bySeq = new Map(stored.map((message) => [message.seq, message]));
    const unknown = selection.filter((seq) => !bySeq.has(seq));
    if (unknown.length > 0) throw new CliError(`no dead letter of ${actor} with seq ${unknown.join(", ")} (see mesh dlq ls ${actor})`);
    chosen = [...new Set(selection)].map((seq) => bySeq.get(seq)!);
  }
  const js = jsm.jetstream();
  const replayed: DeadLetter[] = [];
  for (const message of chosen) {
    const letter = describe(message);
    if (!letter.originalSubject.startsWith("events.")) throw new CliError(`dead letter ${letter.seq} of ${actor} names no event subject to replay to`);
    // The msg id is the dead letter's own: replaying it again (a retry after a crash before the
    // delete below) is dropped by JetStream inside the duplicate window.
    await js.publish(letter.originalSubject, message.data, { msgID: `replay:${stream}:${message.seq}`, headers: replayHeaders(message, letter.eventId) });
    await jsm.streams.deleteMessage(stream, message.seq, false).catch((error: unknown) => {
      if (!isNotFound(error)) throw error; // a concurrent replay removed it first
    });
    replayed.push(letter);
  }
  return { replayed };
}

async function readDeadLetters(jsm: JetStreamManager, actor: string): Promise<StoredMsg[]> {
  const stream = deadLetterStreamName(actor);
  let state;
  try {
    ({ state } = await jsm.streams.info(stream));
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === STREAM_NOT_FOUND) return [];
    throw error;
  }
  const found: StoredMsg[] = [];
  for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0 && found.length < MAX_LISTED; seq++) {
    // Replayed letters leave holes: a missing sequence is skipped.
    const message = await jsm.streams.getMessage(stream, { seq }).catch((error: unknown) => {
      if (isNotFound(error)) return null;
      throw error;
    });
    if (message) found.push(message);
  }
  return found;
}

function replayHeaders(message: StoredMsg, eventId: string) {
  const headers = createHeaders();
  const dlqHeaders = new Set<string>(Object.values(DLQ_HEADERS).map((name) => name.toLowerCase()));
  for (const [key, values] of message.header ?? []) {
    const lower = key.toLowerCase();
    if (lower.startsWith("nats-") || dlqHeaders.has(lower)) continue;
    for (const value of values) headers.append(key, value);
  }
  headers.set(HEADERS.eventId, eventId);
  return headers;
}

function describe(message: StoredMsg): DeadLetter {
  const header = (name: string) => message.header?.get(name) ?? "";
  return {
    seq: message.seq,
    time: message.time.toISOString(),
    eventId: header(HEADERS.eventId),
    consumer: header(DLQ_HEADERS.consumer),
    originalSubject: header(DLQ_HEADERS.originalSubject),
    deliveryCount: Number(header(DLQ_HEADERS.deliveryCount)) || 0,
    reason: header(DLQ_HEADERS.reason),
    tenant: header(HEADERS.tenant),
  };
}

function isNotFound(error: unknown): boolean {
  // JSNoMessageFoundErr (10037); older servers answer "no message found" without that code.
  return error instanceof JetStreamApiError ? error.code === 10037 : /no message found|not found/i.test(String(error));
}
