import { randomBytes } from "node:crypto";
import type { MsgHdrs } from "@nats-io/nats-core";
import { HEADER_LIMITS, HEADERS } from "../../protocol/headers.ts";
import { MeshError } from "../errors.ts";

/** What a request's headers say about the work, after validation. */
export interface RequestMeta {
  readonly tenant: string;
  readonly idempotencyKey: string | undefined;
  readonly deadline: number;
  readonly traceparent: string;
  readonly traceId: string;
  readonly callerService: string;
}

const MAX_TIMEOUT_MS = 5 * 60_000;

export function newTraceparent(traceId = randomBytes(16).toString("hex")): string {
  return `00-${traceId}-${randomBytes(8).toString("hex")}-01`;
}

function checked(value: string, pattern: RegExp, header: string): string {
  if (!pattern.test(value)) throw new MeshError("BAD_REQUEST", `malformed ${header} header`);
  return value;
}

function parseDeadline(headers: MsgHdrs | undefined, now: number, defaultTimeoutMs: number): number {
  const absolute = headers?.get(HEADERS.deadline);
  if (absolute) {
    const deadline = Number(absolute);
    if (!Number.isSafeInteger(deadline) || deadline <= 0) throw new MeshError("BAD_REQUEST", `malformed ${HEADERS.deadline} header`);
    return Math.min(deadline, now + MAX_TIMEOUT_MS);
  }
  const relative = headers?.get(HEADERS.timeout);
  if (relative) {
    const timeout = Number(relative);
    if (!Number.isSafeInteger(timeout) || timeout <= 0) throw new MeshError("BAD_REQUEST", `malformed ${HEADERS.timeout} header`);
    return now + Math.min(timeout, MAX_TIMEOUT_MS);
  }
  return now + defaultTimeoutMs;
}

/** Parses and validates the mesh headers; malformed values are BAD_REQUEST. */
export function readRequestMeta(headers: MsgHdrs | undefined, now: number, defaultTimeoutMs: number): RequestMeta {
  const tenantValue = headers?.get(HEADERS.tenant) ?? "";
  const keyValue = headers?.get(HEADERS.idempotencyKey) ?? "";
  const serviceValue = headers?.get(HEADERS.service) ?? "";
  const traceValue = headers?.get(HEADERS.traceparent) ?? "";
  const traceparent = traceValue ? checked(traceValue, HEADER_LIMITS.traceparent, HEADERS.traceparent) : newTraceparent();
  return {
    tenant: tenantValue ? checked(tenantValue, HEADER_LIMITS.tenant, HEADERS.tenant) : "",
    idempotencyKey: keyValue ? checked(keyValue, HEADER_LIMITS.idempotencyKey, HEADERS.idempotencyKey) : undefined,
    callerService: serviceValue ? checked(serviceValue, HEADER_LIMITS.service, HEADERS.service) : "",
    deadline: parseDeadline(headers, now, defaultTimeoutMs),
    traceparent,
    traceId: traceparent.slice(3, 35),
  };
}
