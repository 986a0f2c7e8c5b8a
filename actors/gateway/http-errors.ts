import type { ErrorCode } from "../../protocol/errors.ts";
import { toMeshError, type MeshError } from "../../runtime/index.ts";

/** Mesh error code -> HTTP status (issue 11's table). */
export const STATUS_OF: Readonly<Record<ErrorCode, number>> = Object.freeze({
  BAD_REQUEST: 400, FORBIDDEN: 403, NOT_FOUND: 404, CONFLICT: 409, RATE_LIMITED: 429, OVER_BUDGET: 402,
  OVERLOADED: 503, UNAVAILABLE: 503, TIMEOUT: 504, INTERNAL: 500,
});

/** OpenAI's `error.type` for each status the gateway sends. */
const OPENAI_TYPE: Readonly<Record<number, string>> = Object.freeze({
  400: "invalid_request_error", 401: "authentication_error", 402: "insufficient_quota", 403: "permission_error",
  404: "not_found_error", 409: "conflict_error", 413: "invalid_request_error", 429: "rate_limit_error",
  500: "server_error", 503: "service_unavailable", 504: "timeout",
});

/** An HTTP refusal that is not a mesh reply (401, 413). */
export class HttpRefusal extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export interface HttpError {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly code: string;
  readonly message: string;
  readonly retryAfterMs?: number | undefined;
  readonly issues?: unknown;
}

/** Any thrown value -> status, headers (Retry-After on 429 and 503, whole seconds rounded up) and a code. */
export function httpErrorOf(thrown: unknown, issues?: unknown): HttpError {
  if (thrown instanceof HttpRefusal) return { status: thrown.status, headers: {}, code: thrown.code, message: thrown.message };
  const error: MeshError = toMeshError(thrown);
  const status = STATUS_OF[error.code];
  const headers: Record<string, string> = {};
  if (status === 429 || status === 503) {
    const retryAfterMs = error.retryAfterMs ?? 1000;
    headers["retry-after"] = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
    headers["retry-after-ms"] = String(retryAfterMs);
  }
  // An internal failure's detail stays in the mesh's logs.
  const message = error.code === "INTERNAL" ? "internal error" : error.message;
  return { status, headers, code: error.code, message, retryAfterMs: error.retryAfterMs, issues };
}

/** The mesh routes' body: the NATS error reply's shape, plus the zod issues of a schema violation. */
export function meshErrorBody(error: HttpError): object {
  return {
    error: {
      code: error.code, message: error.message,
      ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
      ...(error.issues === undefined ? {} : { issues: error.issues }),
    },
  };
}

/** OpenAI's error body; `code` carries the mesh code (e.g. OVER_BUDGET), so a client can tell budget from quota. */
export function openAiErrorBody(error: HttpError, param: string | null = null): object {
  return { error: { message: error.message, type: OPENAI_TYPE[error.status] ?? "api_error", param, code: error.code } };
}
