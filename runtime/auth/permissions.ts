/**
 * NATS permissions derived from actor definitions: what an actor's user may publish and
 * subscribe, and what a service or tenant caller is granted. Pure data; `mesh creds` signs it.
 */
import type { ActorContract, RequestContract } from "../../protocol/contract.ts";
import type { Role } from "../../protocol/roles.ts";
import { deadLetterStreamName, streamName } from "../../protocol/subjects.ts";
import { durableName, parseEventSubject } from "../events/consumer-config.ts";
import type { ActorDefinition } from "../types.ts";

export interface SubjectPermissions {
  readonly publish: readonly string[];
  readonly subscribe: readonly string[];
  /** May answer the requests it receives (reply subjects granted per message by the server). */
  readonly respond: boolean;
  /**
   * Messages it may send to one received reply subject (default 1): more for an actor that
   * streams replies (`streaming` requests) or acknowledges a stream's chunks (it calls one).
   */
  readonly maxResponses?: number;
}

/** Responses one streamed request may get: chunks plus the final reply (a 100k-token answer streams in fewer). */
export const MAX_STREAM_RESPONSES = 100_000;

/** The request subjects answered with a stream, which accounts import as streams. */
export function streamingSubjects(contracts: readonly ActorContract[]): string[] {
  return contracts.flatMap((contract) => Object.values(contract.requests)).filter((request) => request.streaming).map((request) => request.subject);
}

/** Every user's replies arrive under its own inbox prefix, so no user can read another's. */
export function inboxPrefixFor(userName: string): string {
  return `_INBOX.${userName}`;
}

/** The request subjects of `contracts` a caller with `roles` may send. */
export function callableSubjects(contracts: readonly ActorContract[], roles: readonly Role[]): string[] {
  return contracts.flatMap((contract) => Object.values(contract.requests))
    .filter((request: RequestContract) => !request.role || roles.includes(request.role))
    .map((request) => request.subject);
}

/** Subjects tenant accounts import: the tenant-facing requests of every actor. */
export function tenantFacingSubjects(contracts: readonly ActorContract[]): string[] {
  return contracts.flatMap((contract) => Object.values(contract.requests)).filter((request) => request.tenantFacing).map((request) => request.subject);
}

function streamAdmin(stream: string): string[] {
  return ["CREATE", "UPDATE", "INFO"].map((verb) => `$JS.API.STREAM.${verb}.${stream}`);
}

/**
 * An actor's grant. Subscribe: its request subjects in its own queue group, `$SRV` discovery for
 * itself, its inbox. Publish: its events, its dead letters, the requests of the actors it calls
 * (privileged ones only for its roles), and the JetStream API of its own streams and durable
 * consumers (create or update of a stream it names; deleting or purging any stream is left to
 * the operator). Replies go to the reply subject of each received request.
 */
export function actorPermissions(definition: ActorDefinition): SubjectPermissions {
  const name = definition.name;
  const inbox = inboxPrefixFor(name);
  const requests = Object.values(definition.contract.requests).map((request) => `${request.subject} ${name}`);
  const events = Object.values(definition.contract.events).map((event) => event.subject);
  const publish = new Set<string>([...events, ...callableSubjects(definition.calls ?? [], definition.roles ?? []), "$JS.API.INFO"]);
  if (events.length > 0) streamAdmin(streamName(name)).forEach((subject) => publish.add(subject));
  const consumers = definition.consumers ?? [];
  if (consumers.length > 0) {
    publish.add(`dlq.${name}.>`);
    streamAdmin(deadLetterStreamName(name)).forEach((subject) => publish.add(subject));
  }
  for (const consumer of consumers) {
    const { producerActor, eventName } = parseEventSubject(consumer.event.subject);
    const stream = streamName(producerActor);
    const durable = durableName(name, eventName);
    // A consumer may start before its producer: it may create the producer's stream with defaults.
    publish.add(`$JS.API.STREAM.CREATE.${stream}`);
    publish.add(`$JS.API.STREAM.INFO.${stream}`);
    for (const verb of ["CREATE", "UPDATE", "INFO", "MSG.NEXT"]) publish.add(`$JS.API.CONSUMER.${verb}.${stream}.${durable}`);
    publish.add(`$JS.API.CONSUMER.CREATE.${stream}.${durable}.>`);
    publish.add(`$JS.API.CONSUMER.DURABLE.CREATE.${stream}.${durable}`);
    publish.add(`$JS.ACK.${stream}.${durable}.>`);
  }
  const discovery = ["PING", "INFO", "STATS"].flatMap((verb) => [`$SRV.${verb}`, `$SRV.${verb}.${name}`, `$SRV.${verb}.${name}.>`]);
  const streams = streamingSubjects([definition.contract, ...(definition.calls ?? [])]).length > 0;
  return { publish: [...publish], subscribe: [...requests, ...discovery, `${inbox}.>`], respond: true, ...(streams ? { maxResponses: MAX_STREAM_RESPONSES } : {}) };
}

/** A caller that is not an actor: exactly the request subjects it is granted, and its inbox. */
export function callerPermissions(userName: string, subjects: readonly string[]): SubjectPermissions {
  return { publish: [...new Set(subjects)], subscribe: [`${inboxPrefixFor(userName)}.>`], respond: false };
}
