/** When a failed delivery is retried, and when it is dead-lettered instead. */
import { classifyThrown, type Failure } from "../pipeline/classify.ts";
import { jitter } from "../resilience/retry.ts";
import { isConnectivityError } from "../store/database-errors.ts";

export const DEFAULT_BACKOFF_MS: readonly number[] = [200, 1000, 5000, 15000];
/**
 * Delay before redelivery after the `deliveryCount`-th attempt failed: the step (the last one
 * repeats) or the error's `retryAfterMs`, whichever is longer, with the mesh's one jitter
 * (runtime/resilience/retry.ts), so the steps are the longest waits.
 */
export function redeliveryDelay(backoffMs: readonly number[], deliveryCount: number, retryAfterMs = 0): number {
  const steps = backoffMs.length > 0 ? backoffMs : DEFAULT_BACKOFF_MS;
  const base = steps[Math.min(Math.max(deliveryCount, 1), steps.length) - 1] ?? 0;
  return Math.round(jitter(Math.max(base, retryAfterMs)));
}

/**
 * What a failed delivery means for the event:
 * - `terminal`: it can never succeed (BAD_REQUEST, NOT_FOUND, ...): dead-letter at once;
 * - `outage`: something the event needs is away for now (UNAVAILABLE, OVERLOADED, RATE_LIMITED,
 *   or the dedupe lookup could not reach the database): retried with backoff for as long as it
 *   lasts, without using the event's delivery budget, so an outage never dead-letters an event;
 * - `fault`: the handler failed (INTERNAL, TIMEOUT): retried, counted against `maxDeliver`.
 */
export type FailureKind = "terminal" | "outage" | "fault";

export function classifyFailure(error: unknown, stage: "handler" | "dedupe"): FailureKind {
  return deliveryFailureKind(classifyThrown(error), error, stage);
}

/** The same, from a failure already classified by the work pipeline (runtime/pipeline/classify.ts). */
export function deliveryFailureKind(failure: Failure, error: unknown, stage: "handler" | "dedupe"): FailureKind {
  if (failure.fate === "retryable" || isConnectivityError(error)) return "outage";
  if (stage === "dedupe") return "fault";
  // TIMEOUT and INTERNAL (outcome unknown) are retried: the consumer de-duplicates by event id.
  return failure.fate === "terminal" ? "terminal" : "fault";
}
