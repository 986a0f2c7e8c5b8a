/**
 * Closed-loop load: `concurrency` workers each issue one operation, wait for it, issue the
 * next. Operations that finish during warm-up are discarded; the window is measured after.
 */
import { Samples, summarize, type Summary } from "./stats.ts";

export interface LoadOptions {
  readonly concurrency: number;
  readonly warmupMs: number;
  readonly measureMs: number;
  /** Called when the measured window opens and closes (e.g. to profile only that part). */
  readonly onWindow?: { start(): void; end(): void };
}

export interface LoadResult {
  readonly summary: Summary;
  /** Latencies of the operations in the window, for pooling several rounds. */
  readonly latenciesMs: Float64Array;
  readonly windowMs: number;
  readonly errors: number;
  /** The first error seen, for the log; errors are never fatal to the bench. */
  readonly firstError: unknown;
}

/** `operation(i)` gets a running index, so callers can vary payloads without allocating. */
export async function runClosedLoop(operation: (index: number) => Promise<unknown>, options: LoadOptions): Promise<LoadResult> {
  const samples = new Samples();
  const start = performance.now();
  const measureStart = start + options.warmupMs;
  const measureEnd = measureStart + options.measureMs;
  let next = 0;
  let errors = 0;
  let firstError: unknown;

  async function worker(): Promise<void> {
    for (;;) {
      const began = performance.now();
      if (began >= measureEnd) return;
      try {
        await operation(next++);
      } catch (error) {
        if (began >= measureStart) errors++;
        firstError ??= error;
        continue;
      }
      const ended = performance.now();
      if (began >= measureStart && ended <= measureEnd) samples.push(ended - began);
    }
  }

  // The workers may all finish before a late timer fires: the window is then closed here.
  let window: "before" | "open" | "closed" = "before";
  const openWindow = () => {
    window = "open";
    options.onWindow?.start();
  };
  const closeWindow = () => {
    if (window === "open") options.onWindow?.end();
    window = "closed";
  };
  const windowTimers = options.onWindow ? [setTimeout(openWindow, options.warmupMs), setTimeout(closeWindow, options.warmupMs + options.measureMs)] : [];
  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } finally {
    for (const timer of windowTimers) clearTimeout(timer);
    closeWindow();
  }
  const latenciesMs = samples.values();
  return { summary: summarize(latenciesMs, options.measureMs), latenciesMs, windowMs: options.measureMs, errors, firstError };
}

/** One result from several rounds: their samples together over their windows together. */
export function poolRounds(rounds: readonly LoadResult[]): LoadResult {
  if (rounds.length === 0) throw new RangeError("no rounds to pool");
  const latenciesMs = new Float64Array(rounds.reduce((total, round) => total + round.latenciesMs.length, 0));
  let offset = 0;
  for (const round of rounds) {
    latenciesMs.set(round.latenciesMs, offset);
    offset += round.latenciesMs.length;
  }
  const windowMs = rounds.reduce((total, round) => total + round.windowMs, 0);
  return {
    summary: summarize(latenciesMs, windowMs),
    latenciesMs,
    windowMs,
    errors: rounds.reduce((total, round) => total + round.errors, 0),
    firstError: rounds.find((round) => round.firstError !== undefined)?.firstError,
  };
}

/**
 * Closed-loop load for a fixed amount of work: `concurrency` workers share `count` operations
 * (indexes 0..count-1). The window is the whole run, so throughput is count over elapsed time.
 * A failed operation is counted and not retried.
 */
export async function runFixedCount(operation: (index: number) => Promise<unknown>, count: number, concurrency: number): Promise<LoadResult> {
  const samples = new Samples();
  let next = 0;
  let errors = 0;
  let firstError: unknown;
  async function worker(): Promise<void> {
    while (next < count) {
      const index = next++;
      const began = performance.now();
      try {
        await operation(index);
        samples.push(performance.now() - began);
      } catch (error) {
        errors++;
        firstError ??= error;
      }
    }
  }
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const windowMs = Math.max(performance.now() - start, 1);
  const latenciesMs = samples.values();
  return { summary: summarize(latenciesMs, windowMs), latenciesMs, windowMs, errors, firstError };
}
