/** Pure helpers that turn raw latency samples into the figures the bench reports. */

export interface Summary {
  /** Operations completed inside the measured window. */
  readonly count: number;
  /** Operations per second over the measured window. */
  readonly throughput: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
  readonly maxMs: number;
}

/** Nearest-rank percentile (q in 0..1) of ascending samples; NaN when there are none. */
export function percentile(sortedAscending: ArrayLike<number>, q: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`percentile wants q in [0, 1], got ${q}`);
  const n = sortedAscending.length;
  if (n === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil(q * n));
  return sortedAscending[rank - 1]!;
}

/** Summarises latencies (ms) of the operations completed in a window of `windowMs`. */
export function summarize(latenciesMs: ArrayLike<number>, windowMs: number): Summary {
  if (!(windowMs > 0)) throw new RangeError(`window must be positive, got ${windowMs}`);
  const sorted = Float64Array.from(latenciesMs).sort();
  let total = 0;
  for (const value of sorted) total += value;
  const count = sorted.length;
  return {
    count,
    throughput: (count * 1000) / windowMs,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    meanMs: count === 0 ? Number.NaN : total / count,
    maxMs: count === 0 ? Number.NaN : sorted[count - 1]!,
  };
}

/** value / baseline, or NaN when the baseline is zero or missing. */
export function ratio(value: number, baseline: number): number {
  return baseline > 0 && Number.isFinite(value) ? value / baseline : Number.NaN;
}

/** A growable sample buffer that avoids boxing a number per operation. */
export class Samples {
  #values = new Float64Array(1024);
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(value: number): void {
    if (this.#length === this.#values.length) {
      const grown = new Float64Array(this.#values.length * 2);
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[this.#length++] = value;
  }

  values(): Float64Array {
    return this.#values.subarray(0, this.#length);
  }
}

export interface WindowRate {
  readonly count: number;
  readonly windowMs: number;
  /** Events per second inside the window; NaN when the window is empty. */
  readonly throughput: number;
}

/**
 * Rate of ascending event times (ms) in a window that opens `warmupMs` after the first event
 * and closes after `maxWindowMs`, or at the last event if that comes first (backlog drained).
 */
export function rateAfterWarmup(eventTimesAscending: ArrayLike<number>, warmupMs: number, maxWindowMs: number): WindowRate {
  const n = eventTimesAscending.length;
  if (n === 0) return { count: 0, windowMs: 0, throughput: Number.NaN };
  const start = eventTimesAscending[0]! + warmupMs;
  const end = Math.min(start + maxWindowMs, eventTimesAscending[n - 1]!);
  if (!(end > start)) return { count: 0, windowMs: 0, throughput: Number.NaN };
  let count = 0;
  for (let i = 0; i < n; i++) {
    const time = eventTimesAscending[i]!;
    if (time > start && time <= end) count++;
  }
  const windowMs = end - start;
  return { count, windowMs, throughput: (count * 1000) / windowMs };
}
