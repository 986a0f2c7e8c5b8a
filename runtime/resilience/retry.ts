/**
 * The mesh's one retry policy: which failures are tried again (protocol/errors.ts), how long to
 * wait before the next attempt (cockatiel's exponential backoff with its half jitter, or the
 * error's own `retryAfterMs` hint, jittered the same way), and never past a deadline. The mesh
 * client, event redelivery, lease requests, store commits and idempotent-reply storage all wait
 * through here, so every retrying caller in a replica spreads out alike.
 *
 * The loop is ours rather than cockatiel's `RetryPolicy.execute`: that one decides to wait
 * before it knows whether the wait outlives the deadline, and a caller whose deadline would pass
 * during the wait must give up at once with the last answer instead.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { halfJitterGenerator } from "cockatiel";
import { MeshError, isMeshError } from "../errors.ts";

export interface Backoff {
  /** The first wait before jitter, ms. Default 50. */
  readonly initialDelayMs?: number;
  /** The longest wait before jitter, ms. Default 5000. */
  readonly maxDelayMs?: number;
}

const DEFAULT_INITIAL_DELAY_MS = 50;
const DEFAULT_MAX_DELAY_MS = 5000;

/** The one jitter (cockatiel's half jitter): a wait of `ms` becomes a uniform draw from [ms/2, ms). */
export function jitter(ms: number): number {
  if (!(ms > 0)) return 0;
  return halfJitterGenerator(0, { initialDelay: ms, maxDelay: ms, exponent: 2, generator: halfJitterGenerator })[0];
}

/**
 * The wait after the `attempt`-th failed attempt (1 = the first): the error's `retryAfterMs`
 * when it gives one, else exponential (initial, twice that, ...) up to the maximum; jittered.
 */
export function retryDelayMs(attempt: number, error?: unknown, backoff: Backoff = {}): number {
  const hint = isMeshError(error) ? error.retryAfterMs : undefined;
  if (hint !== undefined) return jitter(hint);
  const options = { initialDelay: backoff.initialDelayMs ?? DEFAULT_INITIAL_DELAY_MS, maxDelay: backoff.maxDelayMs ?? DEFAULT_MAX_DELAY_MS, exponent: 2, generator: halfJitterGenerator };
  return halfJitterGenerator(Math.max(0, attempt - 1), options)[0];
}

export interface RetryOptions extends Backoff {
  /** Attempts, including the first. */
  readonly maxAttempts: number;
  /** Which failures are tried again; default: the retryable codes (RATE_LIMITED, OVERLOADED, UNAVAILABLE). */
  readonly retryOn?: (error: unknown) => boolean;
  /** No attempt starts, and no wait ends, at or after this (epoch ms). */
  readonly deadline?: number;
  /** Aborting it ends a wait with TIMEOUT. */
  readonly signal?: AbortSignal | undefined;
}

export const isRetryable = (error: unknown): boolean => isMeshError(error) && error.retryable;

/**
 * Runs `attempt(n)` until it succeeds, fails with an error `retryOn` refuses, uses up
 * `maxAttempts`, or the next wait would reach the deadline; then the last error is thrown.
 */
export async function retryWithin<T>(attempt: (attemptNumber: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const retryOn = options.retryOn ?? isRetryable;
  for (let attemptNumber = 1; ; attemptNumber++) {
    try {
      return await attempt(attemptNumber);
    } catch (error) {
      if (attemptNumber >= options.maxAttempts || !retryOn(error)) throw error;
      const waitMs = retryDelayMs(attemptNumber, error, options);
      if (options.deadline !== undefined && Date.now() + waitMs >= options.deadline) throw error;
      if (waitMs > 0) {
        await sleep(waitMs, undefined, options.signal ? { signal: options.signal } : undefined).catch(() => {
          throw new MeshError("TIMEOUT", "deadline exceeded while waiting to retry", { cause: error });
        });
      }
    }
  }
}
