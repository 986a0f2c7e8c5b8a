import { z } from "zod";

/**
 * The closed set of error codes an actor may answer with. Terminal codes never succeed
 * on retry; retryable ones may, after `retryAfterMs` when it is given.
 */
export const ERROR_CODES = [
  "BAD_REQUEST",
  "NOT_FOUND",
  "CONFLICT",
  "FORBIDDEN",
  "RATE_LIMITED",
  "OVER_BUDGET",
  "OVERLOADED",
  "UNAVAILABLE",
  "TIMEOUT",
  "INTERNAL",
] as const;

export const ErrorCode = z.enum(ERROR_CODES);
export type ErrorCode = z.infer<typeof ErrorCode>;

/*
 * The one taxonomy, by what a retry of the same work can achieve:
 * - TERMINAL: the same work gets the same answer; never retried (an event is dead-lettered).
 * - RETRYABLE: the answer is about the moment (capacity, a dependency down); retried after
 *   `retryAfterMs`, inside the deadline, by the mesh client and event redelivery alike.
 * - TIMEOUT and INTERNAL are neither: the outcome is unknown (the work may have run). A request
 *   caller gets them back, since repeating the work could apply it twice; an event is
 *   redelivered, since its consumer de-duplicates by event id.
 */
export const TERMINAL_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(["BAD_REQUEST", "NOT_FOUND", "CONFLICT", "FORBIDDEN", "OVER_BUDGET"]);
export const RETRYABLE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(["RATE_LIMITED", "OVERLOADED", "UNAVAILABLE"]);
/** Codes whose work may or may not have happened. */
export const UNKNOWN_OUTCOME_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(["TIMEOUT", "INTERNAL"]);

export const ErrorBody = z.object({
  code: ErrorCode,
  message: z.string(),
  retryAfterMs: z.number().int().nonnegative().optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** An error reply's payload: `{"error": {"code": "...", "message": "...", "retryAfterMs": 100}}`. */
export const ErrorReply = z.object({ error: ErrorBody });
export type ErrorReply = z.infer<typeof ErrorReply>;
