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
  /** Streamed replies (`stream: true`) by how they ended: every chunk sent, or the client gone first. */
  readonly streams: { readonly completed: number; readonly abandoned: number };
}

/** One completion the provider answered in full, as it would appear on a bill. */
export interface BilledCall {
  /** When the answer was sent (ms since the epoch). */
  readonly at: number;
  readonly model: string;
  readonly tokens: number;
}

function increment(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

export class StatsCounter {
  #requests = 0;
  #byModel: Record<string, number> = {};
  #byStatus: Record<string, number> = {};
  #hanging = 0;
  #streams = { completed: 0, abandoned: 0 };
  readonly #streamChanges = new EventEmitter().setMaxListeners(0);
  /** Per model, how many requests reached the error-rate check; makes the error spread exact. */
  #errorRateSeen = new Map<string, number>();
  readonly #hangChanges = new EventEmitter().setMaxListeners(0);
  #billed: BilledCall[] = [];

  received(): void {
    this.#requests += 1;
  }

  named(model: string): void {
    increment(this.#byModel, model);
  }

  replied(status: number): void {
    increment(this.#byStatus, String(status));
  }

  /** A completion sent whole, or streamed to its last chunk. */
  billed(model: string, tokens: number): void {
    this.#billed.push({ at: Date.now(), model, tokens });
  }

  /** Every completion billed since the start (or the last reset), oldest first. */
  billedCalls(): readonly BilledCall[] {
    return [...this.#billed];
  }

  streamEnded(completed: boolean): void {
    if (completed) this.#streams.completed += 1;
    else this.#streams.abandoned += 1;
    this.#streamChanges.emit("change");
  }

  /** Resolves once at least `count` streams ended with the client gone. */
  async untilStreamsAbandoned(count: number, signal?: AbortSignal): Promise<void> {
    while (this.#streams.abandoned < count) await once(this.#streamChanges, "change", signal ? { signal } : {});
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
    this.#billed = [];
    this.#streams = { completed: 0, abandoned: 0 };
  }

  snapshot(): ProviderStats {
    return { requests: this.#requests, byModel: { ...this.#byModel }, byStatus: { ...this.#byStatus }, hanging: this.#hanging, streams: { ...this.#streams } };
  }
}
