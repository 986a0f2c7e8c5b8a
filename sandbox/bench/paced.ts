/** Open-loop load: starts operations at a fixed rate whatever their latency (for latency under a known load). */
import { setTimeout as sleep } from "node:timers/promises";

export interface PacedResult {
  readonly started: number;
  readonly errors: number;
  readonly firstError: unknown;
}

export async function runPaced(operation: (index: number) => Promise<unknown>, ratePerSecond: number, durationMs: number): Promise<PacedResult> {
  if (!(ratePerSecond > 0)) throw new RangeError(`rate must be positive, got ${ratePerSecond}`);
  const running = new Set<Promise<unknown>>();
  let started = 0;
  let errors = 0;
  let firstError: unknown;
  const begin = performance.now();
  for (let now = begin; now - begin < durationMs; now = performance.now()) {
    const due = Math.floor(((now - begin) * ratePerSecond) / 1000);
    while (started < due) {
      const work = operation(started++).catch((error: unknown) => {
        errors++;
        firstError ??= error;
      });
      running.add(work);
      void work.finally(() => running.delete(work));
    }
    await sleep(1);
  }
  await Promise.all(running);
  return { started, errors, firstError };
}
