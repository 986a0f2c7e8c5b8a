/**
 * NATS headers every mesh request may carry. Any NATS client can set them, e.g.
 * `nats req tenants.get '{}' -H Mw-Tenant:acme` (the tenant comes from the header, never the body).
 */
export const HEADERS = {
  /** Tenant the work is done for; required by tenant-scoped handlers. */
  tenant: "Mw-Tenant",
  /** Makes a mutating request run at most once per actor and tenant. */
  idempotencyKey: "Mw-Idempotency-Key",
  /** Absolute deadline, Unix epoch milliseconds. The callee stops working after it. */
  deadline: "Mw-Deadline",
  /** Relative timeout in milliseconds, for callers (like `nats req`) that cannot compute an absolute deadline. */
  timeout: "Mw-Timeout-Ms",
  /** W3C trace context. */
  traceparent: "traceparent",
  /** Name of the calling service, for attribution. */
  service: "Mw-Service",
  /** Set on every error reply to the error code; the body then is an ErrorReply. */
  errorCode: "Mw-Error",
  /**
   * The event's id when a message is stored under another msg id (dead-letter copies,
   * republishes). Absent on a first publish, where the event id is the Nats-Msg-Id.
   */
  eventId: "Mw-Event-Id",
} as const;

/** Limits on header values; longer or malformed values get BAD_REQUEST. */
export const HEADER_LIMITS = {
  tenant: /^[a-z0-9][a-z0-9-]{0,62}$/,
  idempotencyKey: /^[\x21-\x7e]{1,128}$/,
  traceparent: /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/,
  service: /^[a-z0-9][a-z0-9-]{0,62}$/,
} as const;

/** Default and maximum request payload size accepted by an actor, bytes. */
export const MAX_PAYLOAD_BYTES = 256 * 1024;
