import { ErrorReply } from "../../protocol/errors.ts";
import { deadLetterSubject, streamName } from "../../protocol/subjects.ts";
import type { ActorDefinition } from "../../runtime/index.ts";
import { durableName, parseEventSubject } from "../../runtime/events/consumer-config.ts";
import { errorReplyHeaders, eventHeaders, requestHeaders } from "./header-schemas.ts";
import { jsonSchemaOf } from "./json-schemas.ts";

type Json = Record<string, unknown>;
const ref = (path: string) => ({ $ref: path });
/** Keys of AsyncAPI component maps allow [A-Za-z0-9._-] only. */
const key = (text: string) => text.replace(/[^A-Za-z0-9._-]/g, "_");

function requestParts(definition: ActorDefinition, channels: Json, operations: Json, messages: Json, schemas: Json): void {
  for (const [verb, request] of Object.entries(definition.contract.requests)) {
    const id = key(request.subject);
    schemas[`${id}.input`] = jsonSchemaOf(request.input, "input");
    schemas[`${id}.output`] = jsonSchemaOf(request.output, "output");
    messages[`${id}.request`] = {
      name: `${id}.request`, title: `${request.subject} request`, headers: ref("#/components/schemas/RequestHeaders"),
      payload: ref(`#/components/schemas/${id}.input`),
    };
    messages[`${id}.reply`] = { name: `${id}.reply`, title: `${request.subject} reply`, payload: ref(`#/components/schemas/${id}.output`) };
    channels[id] = {
      address: request.subject, title: request.subject,
      description: `Request subject of ${definition.name} (queue group ${definition.name}).`,
      messages: { request: ref(`#/components/messages/${id}.request`) },
    };
    // NATS replies go to the caller's inbox, an address known only at run time.
    channels[`${id}.reply`] = {
      address: null, title: `${request.subject} reply (the caller's inbox)`,
      messages: { reply: ref(`#/components/messages/${id}.reply`), error: ref("#/components/messages/ErrorReply") },
    };
    const traits = [request.mutating ? "mutating (honours Mw-Idempotency-Key)" : "read-only", request.tenantless ? "no tenant needed" : "tenant-scoped",
      request.role ? `role ${request.role}` : undefined, request.tenantFacing ? "tenant-facing" : undefined].filter(Boolean).join("; ");
    operations[id] = {
      action: "receive", title: `${definition.name} answers ${request.subject}`, summary: traits,
      channel: ref(`#/channels/${id}`), messages: [ref(`#/channels/${id}/messages/request`)],
      reply: { channel: ref(`#/channels/${id}.reply`), messages: [ref(`#/channels/${id}.reply/messages/reply`), ref(`#/channels/${id}.reply/messages/error`)] },
      bindings: { nats: { queue: definition.name, bindingVersion: "0.1.0" } },
      "x-meshwork": { actor: definition.name, verb, mutating: request.mutating ?? false, tenantless: request.tenantless ?? false, role: request.role ?? null, tenantFacing: request.tenantFacing ?? false },
    };
  }
}

function eventParts(definition: ActorDefinition, channels: Json, operations: Json, messages: Json, schemas: Json): void {
  for (const event of Object.values(definition.contract.events)) {
    const id = key(event.subject);
    schemas[`${id}.payload`] = jsonSchemaOf(event.schema, "output");
    messages[id] = { name: id, title: event.subject, headers: ref("#/components/schemas/EventHeaders"), payload: ref(`#/components/schemas/${id}.payload`) };
    channels[id] = {
      address: event.subject, title: event.subject,
      description: `Event of ${definition.name}, stored in the JetStream stream ${streamName(definition.name)}.`,
      messages: { event: ref(`#/components/messages/${id}`) },
    };
    operations[`${id}.publish`] = {
      action: "send", title: `${definition.name} publishes ${event.subject}`, channel: ref(`#/channels/${id}`), messages: [ref(`#/channels/${id}/messages/event`)],
    };
  }
}

function consumerParts(definition: ActorDefinition, channels: Json, operations: Json, messages: Json): void {
  for (const consumer of definition.consumers ?? []) {
    const id = key(consumer.event.subject);
    const { eventName } = parseEventSubject(consumer.event.subject);
    const durable = durableName(definition.name, eventName);
    operations[`${key(durable)}.consume`] = {
      action: "receive", title: `${definition.name} consumes ${consumer.event.subject}`,
      summary: `durable pull consumer ${durable}, at most ${consumer.maxDeliver ?? 5} deliveries, then dead-lettered`,
      channel: ref(`#/channels/${id}`), messages: [ref(`#/channels/${id}/messages/event`)],
      "x-meshwork": { actor: definition.name, durable },
    };
    const dlq = key(deadLetterSubject(definition.name, consumer.event.subject));
    messages[dlq] = {
      name: dlq, title: `dead letter of ${consumer.event.subject} for ${definition.name}`,
      headers: ref("#/components/schemas/DeadLetterHeaders"), payload: ref(`#/components/schemas/${id}.payload`),
    };
    channels[dlq] = {
      address: deadLetterSubject(definition.name, consumer.event.subject), title: `dead letters of ${durable}`,
      messages: { deadLetter: ref(`#/components/messages/${dlq}`) },
    };
    operations[`${dlq}.publish`] = {
      action: "send", title: `${definition.name} dead-letters ${consumer.event.subject}`, channel: ref(`#/channels/${dlq}`), messages: [ref(`#/channels/${dlq}/messages/deadLetter`)],
    };
  }
}

const deadLetterHeaders = {
  type: "object",
  properties: {
    "Mw-Dlq-Reason": { type: "string", description: "Why the event was dead-lettered (at most 300 characters)." },
    "Mw-Dlq-Delivery-Count": { type: "string", pattern: "^[0-9]+$" },
    "Mw-Dlq-Original-Subject": { type: "string" },
    "Mw-Dlq-Consumer": { type: "string", description: "The durable consumer that gave up." },
    "Mw-Event-Id": { type: "string" },
  },
  required: ["Mw-Dlq-Reason", "Mw-Dlq-Delivery-Count", "Mw-Dlq-Original-Subject", "Mw-Dlq-Consumer", "Mw-Event-Id"],
};

/** The AsyncAPI 3.0 document of the whole mesh: every request subject, event and dead-letter subject, from the definitions and contracts. */
export function asyncApiDocument(definitions: readonly ActorDefinition[], version: string): Json {
  const channels: Json = {};
  const operations: Json = {};
  const messages: Json = {
    ErrorReply: { name: "ErrorReply", title: "error reply", headers: ref("#/components/schemas/ErrorReplyHeaders"), payload: ref("#/components/schemas/ErrorReply") },
  };
  const schemas: Json = {
    RequestHeaders: requestHeaders, ErrorReplyHeaders: errorReplyHeaders, EventHeaders: eventHeaders, DeadLetterHeaders: deadLetterHeaders,
    ErrorReply: jsonSchemaOf(ErrorReply, "output"),
  };
  const sorted = [...definitions].sort((a, b) => a.name.localeCompare(b.name));
  for (const definition of sorted) {
    requestParts(definition, channels, operations, messages, schemas);
    eventParts(definition, channels, operations, messages, schemas);
  }
  for (const definition of sorted) consumerParts(definition, channels, operations, messages);
  return {
    asyncapi: "3.0.0",
    info: {
      title: "Meshwork", version,
      description: "Every actor's request subjects (JSON request, JSON reply or typed error reply on the caller's inbox), events and dead letters. Generated by `npx mesh docs` from the actor definitions and protocol/ contracts; do not edit.",
    },
    defaultContentType: "application/json",
    servers: {
      sandbox: { host: "127.0.0.1:4222", protocol: "nats", description: "The NATS server of `make sandbox` (its URL is in .meshwork/sandbox.env); authentication is on." },
    },
    channels, operations,
    components: { schemas, messages },
  };
}
