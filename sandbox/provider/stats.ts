import { EventEmitter, once } from "node:events";

export interface ProviderStats {
  /** Completion requests received, whatever became of them. */
  readonly requests: number;
  /** Completion requests by the model they named (unknown models included). */
  readonly byModel: Readonly<Record<string, number>>;
  /** Completion replies sent, by HTTP status. */
  readonly byStatus: Readonly<Record<string, number>>;
  /** Completion requests being held by `hang` right now (not cleared by a reset). */
  readonly hanging: number;
}

function increment(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

export class StatsCounter {
  #requests = 0;
  #byModel: Record<string, number> = {};
  #byStatus: Record<string, number> = {};
  #hanging = 0;
  /** Per model, how many requests reached the error-rate check; makes the error spread exact. */
  #errorRateSeen = new Map<string, number>();
  readonly #hangChanges = new EventEmitter().setMaxListeners(0);

  received(): void {
    this.#requests += 1;
  }

  named(model: string): void {
    increment(this.#byModel, model);
  }

  replied(status: number): void {
    increment(this.#byStatus, String(status));
  }

  hangStarted(): void {
    this.#hanging += 1;
    this.#hangChanges.emit("change");
  }

  hangEnded(): void {
    this.#hanging -= 1;
    this.#hangChanges.emit("change");
  }

  /** Resolves once exactly `count` requests are held by `hang`, so a test need not guess when they arrived or left. */
  async untilHanging(count: number, signal?: AbortSignal): Promise<void> {
    while (this.#hanging !== count) await once(this.#hangChanges, "change", signal ? { signal } : {});
  }

  /** True for the requests that an error rate of `rate` fails: request n fails when ⌊(n+1)·rate⌋ > ⌊n·rate⌋. */
  shouldFail(model: string, rate: number): boolean {
    const seen = this.#errorRateSeen.get(model) ?? 0;
    this.#errorRateSeen.set(model, seen + 1);
    return Math.floor((seen + 1) * rate) > Math.floor(seen * rate);
  }

  reset(): void {
    this.#requests = 0;
    this.#byModel = {};
    this.#byStatus = {};
    this.#errorRateSeen.clear();
  }

  snapshot(): ProviderStats {
    return { requests: this.#requests, byModel: { ...this.#byModel }, byStatus: { ...this.#byStatus }, hanging: this.#hanging };
  }
}
