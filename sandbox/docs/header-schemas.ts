import { HEADER_LIMITS, HEADERS } from "../../protocol/headers.ts";
import { ERROR_CODES } from "../../protocol/errors.ts";

/** What each header of protocol/headers.ts means, for the generated docs (typed by HEADERS: a new header must be described). */
const HEADER_DESCRIPTIONS: Readonly<Record<keyof typeof HEADERS, string>> = {
  tenant: "Tenant the work is for; required by tenant-scoped subjects. A tenant-scoped caller may name only its own tenant.",
  idempotencyKey: "A mutating request with a key runs at most once per actor and tenant; repeats get the stored reply.",
  deadline: "Absolute deadline, Unix epoch milliseconds; the callee stops working after it.",
  timeout: "Relative timeout in milliseconds, for callers that cannot compute an absolute deadline. Default 5000, at most 300000.",
  traceparent: "W3C trace context; generated when absent.",
  service: "Name of the calling service, for attribution.",
  errorCode: "Set on every error reply to the error code; the body then is an error reply.",
  eventId: "The event's id when a message is stored under another msg id (dead-letter copies, republishes).",
};

const PATTERNS: Readonly<Partial<Record<keyof typeof HEADERS, RegExp>>> = {
  tenant: HEADER_LIMITS.tenant,
  idempotencyKey: HEADER_LIMITS.idempotencyKey,
  traceparent: HEADER_LIMITS.traceparent,
  service: HEADER_LIMITS.service,
};

function header(key: keyof typeof HEADERS): Record<string, unknown> {
  const pattern = PATTERNS[key];
  return {
    type: "string",
    description: HEADER_DESCRIPTIONS[key],
    ...(pattern ? { pattern: pattern.source } : {}),
    ...(key === "deadline" || key === "timeout" ? { pattern: "^[0-9]+$" } : {}),
    ...(key === "errorCode" ? { enum: [...ERROR_CODES] } : {}),
  };
}

const object = (keys: readonly (keyof typeof HEADERS)[], required: readonly (keyof typeof HEADERS)[] = [], extra: Record<string, unknown> = {}) => ({
  type: "object",
  properties: { ...Object.fromEntries(keys.map((key) => [HEADERS[key], header(key)])), ...extra },
  ...(required.length > 0 ? { required: required.map((key) => HEADERS[key]) } : {}),
});

/** Headers a request may carry. */
export const requestHeaders = object(["tenant", "idempotencyKey", "deadline", "timeout", "traceparent", "service"]);
/** Headers of an error reply. */
export const errorReplyHeaders = object(["errorCode"], ["errorCode"]);
/** Headers of a stored event (its id travels as JetStream's Nats-Msg-Id on the first publish). */
export const eventHeaders = object(["tenant", "traceparent", "service", "eventId"], [], {
  "Nats-Msg-Id": { type: "string", description: "The event id; JetStream drops a re-publish with the same id inside the stream's duplicate window." },
});

/** Every header name the docs describe, for the test that keeps them complete. */
export const describedHeaders: readonly string[] = Object.values(HEADERS);
