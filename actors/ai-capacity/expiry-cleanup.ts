import type { Logger } from "pino";
import type { GlobalCollection } from "../../runtime/index.ts";
import type { LeaseExpiryDoc } from "./lease-expiry.ts";

/** How long finished leases' expiry entries wait to be removed together. */
const FLUSH_AFTER_MS = 50;
const MAX_BATCH = 500;

/**
 * Removes the `lease_expiry` entries of finished leases in batches, off the reply path: one
 * `deleteMany` by `_id` per FLUSH_AFTER_MS instead of one delete per settle. A removal that is
 * lost (the replica stopped, the database failed) leaves a stray entry, which costs a sweeper
 * one look that changes nothing and is then deleted by it.
 */
export class ExpiryCleanup {
  readonly #entries: GlobalCollection<LeaseExpiryDoc>;
  #pending: string[] = [];
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(entries: GlobalCollection<LeaseExpiryDoc>) {
    this.#entries = entries;
  }

  /** Schedules the removal; never fails the caller. */
  forget(leaseId: string, log: Logger): void {
    this.#pending.push(leaseId);
    if (this.#pending.length >= MAX_BATCH) this.#flushNow(log);
    else this.#timer ??= setTimeout(() => this.#flushNow(log), FLUSH_AFTER_MS).unref();
  }

  /** Removes what is pending now (tests, and a stopping replica). */
  async flush(log?: Logger): Promise<void> {
    if (this.#pending.length > 0) this.#flushNow(log);
    await this.#flushing;
  }

  #flushNow(log: Logger | undefined): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const ids = this.#pending.splice(0);
    this.#flushing = this.#flushing.then(async () => {
      try {
        await this.#entries.deleteMany({ _id: { $in: ids } });
      } catch (error) {
        log?.warn({ err: error, leases: ids.length }, "could not remove finished leases from the expiry index; the sweeper will");
      }
    });
  }
}
