/**
 * Writes that need not hold a reply (call records, usage events of billed calls): run after the
 * answer, bounded in number so a slow database or stream slows replies down instead of piling
 * up promises without limit, and awaited on a graceful stop.
 */
export class BackgroundWrites {
  readonly #running = new Set<Promise<void>>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  /** Starts `write` off the reply path; resolves at once, or when it is done if `max` writes are already running. */
  run(write: Promise<void>): Promise<void> {
    const tracked = write.finally(() => this.#running.delete(tracked));
    this.#running.add(tracked);
    return this.#running.size > this.#max ? tracked : Promise.resolve();
  }

  get running(): number {
    return this.#running.size;
  }

  async drain(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }
}
