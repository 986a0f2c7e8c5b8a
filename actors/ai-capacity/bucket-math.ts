/**
 * Token-bucket arithmetic, free of storage. A bucket holds at most one minute's capacity and
 * refills continuously at capacity per minute; time is epoch milliseconds.
 */

export interface BucketLevel {
  readonly tokens: number;
  readonly requests: number;
  /** The time up to which refill has been credited. */
  readonly updatedAt: number;
}

export interface BucketCapacity {
  readonly tokensPerMinute: number;
  readonly requestsPerMinute: number;
}

export interface BucketAmount {
  readonly tokens: number;
  readonly requests: number;
}

const MINUTE_MS = 60_000;

export function fullBucket(capacity: BucketCapacity, now: number): BucketLevel {
  return { tokens: capacity.tokensPerMinute, requests: capacity.requestsPerMinute, updatedAt: now };
}

/** The level at `now`: refill credited for the time elapsed, capped at capacity (which also clamps a shrunk one). */
export function refilled(level: BucketLevel, capacity: BucketCapacity, now: number): BucketLevel {
  const elapsed = Math.max(0, now - level.updatedAt);
  return {
    tokens: Math.min(capacity.tokensPerMinute, level.tokens + (elapsed * capacity.tokensPerMinute) / MINUTE_MS),
    requests: Math.min(capacity.requestsPerMinute, level.requests + (elapsed * capacity.requestsPerMinute) / MINUTE_MS),
    updatedAt: Math.max(now, level.updatedAt),
  };
}

export function holds(level: BucketAmount, amount: BucketAmount): boolean {
  return level.tokens >= amount.tokens && level.requests >= amount.requests;
}

export function fitsCapacity(capacity: BucketCapacity, amount: BucketAmount): boolean {
  return amount.tokens <= capacity.tokensPerMinute && amount.requests <= capacity.requestsPerMinute;
}

/** Milliseconds until a bucket at `level` (already refilled to now) holds `amount`; 0 if it does. */
export function refillWaitMs(level: BucketAmount, capacity: BucketCapacity, amount: BucketAmount): number {
  const wait = (missing: number, perMinute: number) => (missing <= 0 ? 0 : (missing * MINUTE_MS) / perMinute);
  return Math.ceil(Math.max(wait(amount.tokens - level.tokens, capacity.tokensPerMinute), wait(amount.requests - level.requests, capacity.requestsPerMinute)));
}

export function scaled(capacity: BucketCapacity, factor: number): BucketCapacity {
  return { tokensPerMinute: capacity.tokensPerMinute * factor, requestsPerMinute: capacity.requestsPerMinute * factor };
}
