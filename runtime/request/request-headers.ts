import { randomBytes } from "node:crypto";
import type { MsgHdrs } from "@nats-io/nats-core";
import { HEADER_LIMITS, HEADERS } from "../../protocol/headers.ts";
import { callerIdentityFromInfo, type CallerIdentity } from "../auth/caller-identity.ts";
import { REQUEST_INFO_HEADER } from "../../protocol/roles.ts";
import { MeshError } from "../errors.ts";

/** What a request's headers say about the work, after validation. */
export interface RequestMeta {
  readonly tenant: string;
  readonly idempotencyKey: string | undefined;
  readonly deadline: number;
  readonly traceparent: string;
  readonly traceId: string;
  readonly callerService: string;
  /** Who sent it, as the server vouches (see runtime/auth/caller-identity.ts). */
  readonly caller: CallerIdentity;
}

const MAX_TIMEOUT_MS = 5 * 60_000;
/** An absolute deadline before this (September 2001) is not epoch milliseconds: most likely seconds. */
const EARLIEST_PLAUSIBLE_DEADLINE = 1_000_000_000_000;

/** The mesh headers a request may carry, by lower-case name (names are matched in any case). */
export const LOWER_NAMES = {
  tenant: HEADERS.tenant.toLowerCase(), idempotencyKey: HEADERS.idempotencyKey.toLowerCase(), service: HEADERS.service.toLowerCase(),
  traceparent: HEADERS.traceparent.toLowerCase(), deadline: HEADERS.deadline.toLowerCase(), timeout: HEADERS.timeout.toLowerCase(),
} as const;

/**
 * The values as the headers carry them, before any check; "" for a header that is absent. Both
 * ways of reading them (nats-core's decoded headers below, the header block's text in
 * request-header-text.ts) fill this, and `checkRequestMeta` is the one set of checks.
 */
export interface RawMeta {
  tenant: string;
  idempotencyKey: string;
  service: string;
  traceparent: string;
  deadline: string;
  timeout: string;
  /** Set by the server for callers from other accounts; matched exactly (a forged one in another spelling is ignored). */
  requestInfo: string;
}

export function emptyRawMeta(): RawMeta {
  return { tenant: "", idempotencyKey: "", service: "", traceparent: "", deadline: "", timeout: "", requestInfo: "" };
}

/**
 * One pass over nats-core's decoded headers (used when a message does not expose its header
 * block's text), each name lower-cased once.
 * Per spelling of a name its first value counts; across spellings, the first non-empty one.
 */
export function readRawMeta(headers: MsgHdrs | undefined): RawMeta {
  const raw = emptyRawMeta();
  if (!headers) return raw;
  for (const [name, values] of headers) {
    const value = values[0];
    if (value === undefined) continue;
    if (name === REQUEST_INFO_HEADER) {
      raw.requestInfo ||= value;
      continue;
    }
    switch (name.toLowerCase()) {
      case LOWER_NAMES.tenant: raw.tenant ||= value; break;
      case LOWER_NAMES.idempotencyKey: raw.idempotencyKey ||= value; break;
      case LOWER_NAMES.service: raw.service ||= value; break;
      case LOWER_NAMES.traceparent: raw.traceparent ||= value; break;
      case LOWER_NAMES.deadline: raw.deadline ||= value; break;
      case LOWER_NAMES.timeout: raw.timeout ||= value; break;
    }
  }
  return raw;
}

export function newTraceparent(traceId = randomHex(16)): string {
  return `00-${traceId}-${randomHex(8)}-01`;
}

// Entropy is drawn in blocks, as node:crypto does for randomUUID: a randomBytes call per id was
// 1% of an llm replica's CPU profile when its callers sent no traceparent.
const ENTROPY_BLOCK = 24 * 256;
let entropy = Buffer.alloc(0);
let entropyUsed = 0;

function randomHex(bytes: number): string {
  if (entropyUsed + bytes > entropy.length) {
    entropy = randomBytes(ENTROPY_BLOCK);
    entropyUsed = 0;
  }
  const hex = entropy.toString("hex", entropyUsed, entropyUsed + bytes);
  entropyUsed += bytes;
  return hex;
}

function checked(value: string, pattern: RegExp, header: string): string {
  if (!pattern.test(value)) throw new MeshError("BAD_REQUEST", `malformed ${header} header`);
  return value;
}

function parseDeadline(raw: RawMeta, now: number, defaultTimeoutMs: number): number {
  const absolute = raw.deadline;
  if (absolute) {
    const deadline = Number(absolute);
    if (!Number.isSafeInteger(deadline) || deadline <= 0) throw new MeshError("BAD_REQUEST", `malformed ${HEADERS.deadline} header`);
    if (deadline < EARLIEST_PLAUSIBLE_DEADLINE) throw new MeshError("BAD_REQUEST", `${HEADERS.deadline} must be epoch milliseconds`);
    return Math.min(deadline, now + MAX_TIMEOUT_MS);
  }
  const relative = raw.timeout;
  if (relative) {
    const timeout = Number(relative);
    if (!Number.isSafeInteger(timeout) || timeout <= 0) throw new MeshError("BAD_REQUEST", `malformed ${HEADERS.timeout} header`);
    return now + Math.min(timeout, MAX_TIMEOUT_MS);
  }
  return now + defaultTimeoutMs;
}

/** Validates the mesh headers' values; malformed values are BAD_REQUEST, an unreadable caller identity FORBIDDEN. */
export function checkRequestMeta(raw: RawMeta, now: number, defaultTimeoutMs: number): RequestMeta {
  const tenantValue = raw.tenant;
  const keyValue = raw.idempotencyKey;
  const serviceValue = raw.service;
  const traceValue = raw.traceparent;
  const traceparent = traceValue ? checked(traceValue, HEADER_LIMITS.traceparent, HEADERS.traceparent) : newTraceparent();
  return {
    tenant: tenantValue ? checked(tenantValue, HEADER_LIMITS.tenant, HEADERS.tenant) : "",
    idempotencyKey: keyValue ? checked(keyValue, HEADER_LIMITS.idempotencyKey, HEADERS.idempotencyKey) : undefined,
    callerService: serviceValue ? checked(serviceValue, HEADER_LIMITS.service, HEADERS.service) : "",
    deadline: parseDeadline(raw, now, defaultTimeoutMs),
    traceparent,
    traceId: traceparent.slice(3, 35),
    caller: callerIdentityFromInfo(raw.requestInfo),
  };
}
