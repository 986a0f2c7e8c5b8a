/**
 * Delay before restarting a crashed replica: doubles per consecutive crash from `initialMs` up
 * to `maxMs`, and starts over once a replica has stayed up for `stableMs`.
 */
export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly stableMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = Object.freeze({ initialMs: 500, maxMs: 30_000, stableMs: 60_000 });

export function restartDelay(policy: BackoffPolicy, consecutiveCrashes: number): number {
  const exponent = Math.max(0, consecutiveCrashes - 1);
  return Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(exponent, 20));
}

/** Crash count after a replica that was up for `uptimeMs` exits unexpectedly. */
export function nextCrashCount(policy: BackoffPolicy, previousCrashes: number, uptimeMs: number): number {
  return uptimeMs >= policy.stableMs ? 1 : previousCrashes + 1;
}
