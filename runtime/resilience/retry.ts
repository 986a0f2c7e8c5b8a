/**
 * The mesh's one retry policy: which failures are tried again (protocol/errors.ts), how long to
 * wait before the next attempt (cockatiel's exponential backoff, or the error's own
 * `retryAfterMs` hint when longer, with cockatiel's half jitter), and never past a deadline. The mesh
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
 * The wait after the `attempt`-th failed attempt (1 = the first): exponential (initial, twice
 * that, ...) up to the maximum, or the error's `retryAfterMs` hint when that is longer (a hint
 * above the maximum too); jittered. So a replica that keeps answering OVERLOADED with the same
 * short hint is asked less and less often. A zero hint (the attempt's time ran out already)
 * means at once.
 */
export function retryDelayMs(attempt: number, error?: unknown, backoff: Backoff = {}): number {
  const hint = isMeshError(error) ? error.retryAfterMs : undefined;
  if (hint === 0) return 0;
  const initialDelay = backoff.initialDelayMs ?? DEFAULT_INITIAL_DELAY_MS;
  const maxDelay = backoff.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  if (hint !== undefined) return jitter(Math.max(hint, Math.min(maxDelay, initialDelay * 2 ** Math.max(0, attempt - 1))));
  return halfJitterGenerator(Math.max(0, attempt - 1), { initialDelay, maxDelay, exponent: 2, generator: halfJitterGenerator })[0];
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
