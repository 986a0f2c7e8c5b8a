import { MeshError } from "../../runtime/index.ts";
import type { ProviderFailure } from "./provider-errors.ts";
import type { ProviderSignalOutcome } from "./capacity.ts";

/** Long enough that a caller's client gives up instead of retrying at once: people must act first. */
const OPERATOR_ACTION_RETRY_MS = 60_000;
const TRANSIENT_RETRY_MS = 1000;

/** The caller's answer when a model failed. Provider messages are never passed on. */
export function replyForFailure(failure: ProviderFailure, model: string): MeshError {
  switch (failure.kind) {
    case "rate_limited":
      return new MeshError("RATE_LIMITED", `the provider is rate limiting ${model}`, { retryAfterMs: failure.retryAfterMs });
    case "quota":
      // The provider account's quota, not the tenant's budget: OVER_BUDGET would send the tenant the wrong way.
      return new MeshError("UNAVAILABLE", "provider quota exhausted", { retryAfterMs: OPERATOR_ACTION_RETRY_MS });
    case "credentials":
      return new MeshError("UNAVAILABLE", "the provider refused this service's credentials", { retryAfterMs: OPERATOR_ACTION_RETRY_MS });
    case "server_error":
      return new MeshError("UNAVAILABLE", `the provider failed for ${model}`, { retryAfterMs: TRANSIENT_RETRY_MS });
    case "timeout":
      return new MeshError("UNAVAILABLE", `the provider timed out for ${model}`, { retryAfterMs: TRANSIENT_RETRY_MS });
    case "circuit_open":
      return new MeshError("UNAVAILABLE", `${model} is unavailable (circuit open)`, { retryAfterMs: failure.retryAfterMs });
    case "refused":
      return failure.status === 404
        ? new MeshError("BAD_REQUEST", `model ${model} is not available at the provider`)
        : new MeshError("BAD_REQUEST", "the provider refused the request");
    case "aborted":
      return new MeshError("TIMEOUT", "the caller's deadline ended the provider call");
  }
}

/** What ai-capacity hears about the provider; undefined for failures that say nothing about its capacity. */
export function signalForFailure(failure: ProviderFailure): { outcome: ProviderSignalOutcome; retryAfterMs?: number } | undefined {
  switch (failure.kind) {
    case "rate_limited":
      return { outcome: "rate_limited", retryAfterMs: failure.retryAfterMs };
    case "timeout":
      return { outcome: "timeout" };
    case "server_error":
      return { outcome: "error" };
    default:
      return undefined;
  }
}
