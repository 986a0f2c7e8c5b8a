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

/** Codes the caller helper retries (with jitter, inside the deadline). */
export const RETRYABLE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(["RATE_LIMITED", "OVERLOADED", "UNAVAILABLE"]);

export const ErrorBody = z.object({
  code: ErrorCode,
  message: z.string(),
  retryAfterMs: z.number().int().nonnegative().optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** An error reply's payload: `{"error": {"code": "...", "message": "...", "retryAfterMs": 100}}`. */
export const ErrorReply = z.object({ error: ErrorBody });
export type ErrorReply = z.infer<typeof ErrorReply>;
