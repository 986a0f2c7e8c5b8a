/** When a failed delivery is retried, and when it is dead-lettered instead. */
import { isMeshError, toMeshError, type MeshError } from "../errors.ts";
import { isConnectivityError } from "../store/database-errors.ts";

export const DEFAULT_BACKOFF_MS: readonly number[] = [200, 1000, 5000, 15000];
const JITTER = 0.2;

/** Delay before redelivery after the `deliveryCount`-th attempt failed; the last step repeats. */
export function redeliveryDelay(backoffMs: readonly number[], deliveryCount: number, retryAfterMs = 0): number {
  const steps = backoffMs.length > 0 ? backoffMs : DEFAULT_BACKOFF_MS;
  const base = steps[Math.min(Math.max(deliveryCount, 1), steps.length) - 1] ?? 0;
  return Math.round(Math.max(base * (1 + Math.random() * JITTER), retryAfterMs));
}

/**
 * Terminal codes never succeed on retry. TIMEOUT and INTERNAL are retried: a timeout is
 * transient by nature, and INTERNAL is what any unexpected exception becomes.
 */
export function isTerminalFailure(error: MeshError): boolean {
  return !error.retryable && error.code !== "TIMEOUT" && error.code !== "INTERNAL";
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
  const meshError = toMeshError(error);
  if (meshError.retryable || isConnectivityError(error)) return "outage";
  if (stage === "dedupe") return "fault";
  return isTerminalFailure(meshError) ? "terminal" : "fault";
}

/** "CODE message"; for unexpected exceptions the original message, which stays inside the mesh (DLQ, logs). */
export function describeFailure(error: unknown): { meshError: MeshError; text: string } {
  const meshError = toMeshError(error);
  const cause = !isMeshError(error) ? error : meshError.cause;
  const detail = meshError.code === "INTERNAL" && cause instanceof Error ? cause.message : meshError.message;
  return { meshError, text: `${meshError.code} ${detail}` };
}
