import { HEADER_LIMITS } from "../../protocol/headers.ts";
import { MeshError } from "../../runtime/index.ts";

const MAX_TIMEOUT_MS = 5 * 60_000;

/** What the gateway passes on to the mesh from an HTTP request's headers, validated. */
export interface EdgeRequestMeta {
  readonly deadline: number;
  readonly traceparent: string | undefined;
  readonly idempotencyKey: string | undefined;
}

function positive(value: string, header: string, scale: number): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new MeshError("BAD_REQUEST", `malformed ${header} header`);
  return Math.min(Math.ceil(number * scale), MAX_TIMEOUT_MS);
}

/**
 * Deadline from `Mw-Timeout-Ms` (milliseconds) or `X-Stainless-Timeout` (seconds: what the
 * `openai` SDKs send from their `timeout` option), else the route's default; at most 5 min.
 * `traceparent` and `Idempotency-Key` are passed through when well formed; malformed is 400.
 */
export function readEdgeMeta(header: (name: string) => string | undefined, defaultTimeoutMs: number, now: number): EdgeRequestMeta {
  const ms = header("mw-timeout-ms");
  const seconds = header("x-stainless-timeout");
  const timeoutMs = ms ? positive(ms, "Mw-Timeout-Ms", 1) : seconds ? positive(seconds, "X-Stainless-Timeout", 1000) : defaultTimeoutMs;
  const traceparent = header("traceparent");
  if (traceparent && !HEADER_LIMITS.traceparent.test(traceparent)) throw new MeshError("BAD_REQUEST", "malformed traceparent header");
  const idempotencyKey = header("idempotency-key");
  if (idempotencyKey && !HEADER_LIMITS.idempotencyKey.test(idempotencyKey)) throw new MeshError("BAD_REQUEST", "malformed Idempotency-Key header (1-128 visible ASCII characters)");
  return { deadline: now + timeoutMs, traceparent: traceparent || undefined, idempotencyKey: idempotencyKey || undefined };
}
