import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from "openai";
import { isBrokenCircuitError } from "cockatiel";

/** What went wrong with a provider call, in the terms the llm actor decides on. */
export type ProviderFailure =
  | { kind: "rate_limited"; retryAfterMs: number }
  | { kind: "quota" }
  | { kind: "server_error" }
  | { kind: "timeout" }
  | { kind: "circuit_open"; retryAfterMs: number }
  | { kind: "refused"; status: number }
  | { kind: "credentials" }
  /** The caller's deadline ended the call (its signal, or a timeout the deadline cut short): says nothing about the provider. */
  | { kind: "aborted" };

const DEFAULT_RATE_LIMIT_RETRY_MS = 1000;

/** retry-after-ms (OpenAI's), else retry-after in seconds or as an HTTP date. */
export function retryAfterFromHeaders(headers: Headers | undefined): number | undefined {
  const milliseconds = Number.parseFloat(headers?.get("retry-after-ms") ?? "");
  if (Number.isFinite(milliseconds) && milliseconds >= 0) return Math.ceil(milliseconds);
  const value = headers?.get("retry-after");
  if (!value) return undefined;
  const seconds = Number.parseFloat(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

function isQuotaError(error: APIError): boolean {
  return error.code === "insufficient_quota" || error.type === "insufficient_quota";
}

const CALLER_DEADLINE = Symbol.for("meshwork.llm.CallerDeadline");

/** Thrown in place of the SDK's timeout when the timeout was the caller's remaining deadline, not ours. */
export class CallerDeadlineError extends Error {
  readonly [CALLER_DEADLINE] = true;
  constructor(cause: unknown) {
    super("the caller's deadline ended the provider call", { cause });
  }
}

function isCallerDeadline(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as Record<symbol, unknown>)[CALLER_DEADLINE] === true;
}

/** Anything thrown by an SDK call (through its circuit) -> a ProviderFailure; unknown errors count as server errors. */
export function classifyProviderError(error: unknown, circuitRetryAfterMs: () => number): ProviderFailure {
  if (isBrokenCircuitError(error)) return { kind: "circuit_open", retryAfterMs: circuitRetryAfterMs() };
  if (error instanceof APIUserAbortError || isCallerDeadline(error)) return { kind: "aborted" };
  if (error instanceof APIConnectionTimeoutError) return { kind: "timeout" };
  if (error instanceof APIConnectionError) return { kind: "server_error" };
  if (error instanceof APIError && typeof error.status === "number") {
    if (error.status === 429) {
      if (isQuotaError(error)) return { kind: "quota" };
      return { kind: "rate_limited", retryAfterMs: retryAfterFromHeaders(error.headers) ?? DEFAULT_RATE_LIMIT_RETRY_MS };
    }
    if (error.status === 401 || error.status === 403) return { kind: "credentials" };
    if (error.status === 408 || error.status >= 500) return error.status === 408 ? { kind: "timeout" } : { kind: "server_error" };
    return { kind: "refused", status: error.status };
  }
  return { kind: "server_error" };
}

/** The circuit counts failures that say the provider (for this model) is unhealthy. */
export function countsAgainstCircuit(error: unknown): boolean {
  const failure = classifyProviderError(error, () => 0);
  return failure.kind === "server_error" || failure.kind === "timeout";
}

/** A degraded model: worth one try on its configured fallback. */
export function isDegradation(failure: ProviderFailure): boolean {
  return failure.kind === "rate_limited" || failure.kind === "server_error" || failure.kind === "timeout" || failure.kind === "circuit_open";
}
