import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { isMeshError, type ActorStore } from "../../runtime/index.ts";
import { CALL_LOG, callLogPage, type CallLogPage, type CallRecord } from "./records.ts";

/** Records per page (about 250 KB of JSON lines at most). */
const MAX_BATCH = 1000;

export interface CallLogOptions {
  /** How long a record waits for others before its batch is written. */
  readonly flushMs: number;
  /** Records buffered or being written before `add` waits for its own to be stored. */
  readonly maxPending: number;
}

interface Pending {
  readonly tenant: string;
  readonly record: CallRecord;
}

/**
 * The replica's call records, written in batches: records gather for `flushMs` (or until a
 * batch is full), then go to the database as one page per tenant (records.ts), one flush at a
 * time. One insert per call cost the replica a fifth of its CPU and FerretDB most of its share,
 * and a document per call still cost FerretDB 0.1 ms per completion (sandbox/bench/README.md,
 * "What the AI path spends its time on", "Call records in pages"). Best effort, as
 * before: a failed batch is logged, never answered. Bounded: past `maxPending` records a
 * caller's `add` resolves only once its record is written, so a slow database slows replies
 * down instead of filling memory. `close` writes what is left (graceful stop).
 */
export class CallLog {
  readonly #store: ActorStore;
  readonly #log: Logger;
  readonly #options: CallLogOptions;
  #queue: Pending[] = [];
  /** Records taken by the running flush, not yet written. */
  #writing = 0;
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  /** Settles when the flush after the current one has written what is queued now. */
  #nextFlushDone: { promise: Promise<void>; resolve: () => void } | undefined;

  constructor(store: ActorStore, log: Logger, options: CallLogOptions) {
    this.#store = store;
    this.#log = log;
    this.#options = options;
  }

  /** Queues `record` for `tenant`; resolves at once, or once it is written when the log is full. */
  add(tenant: string, record: CallRecord): Promise<void> {
    this.#queue.push({ tenant, record });
    const done = this.#waitForFlush();
    const full = this.#queue.length + this.#writing > this.#options.maxPending;
    // A full batch, or a log past its bound, is written now.
    this.#flushSoon(full || this.#queue.length >= MAX_BATCH ? 0 : this.#options.flushMs);
    return full ? done : Promise.resolve();
  }

  /** Records queued or being written. */
  get pending(): number {
    return this.#queue.length + this.#writing;
  }

  /** Writes everything queued now; resolves when it is stored (or its failure logged). */
  async flush(): Promise<void> {
    while (this.#queue.length > 0 || this.#flushing) {
      if (this.#flushing) await this.#flushing;
      else this.#startFlush();
    }
  }

  async close(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }

  #waitForFlush(): Promise<void> {
    if (!this.#nextFlushDone) {
      let resolve!: () => void;
      const promise = new Promise<void>((settle) => { resolve = settle; });
      this.#nextFlushDone = { promise, resolve };
    }
    return this.#nextFlushDone.promise;
  }

  #flushSoon(delayMs: number): void {
    if (this.#flushing) return; // the running flush starts the next one when it ends
    if (this.#timer && delayMs > 0) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#startFlush();
    }, delayMs);
  }

  #startFlush(): void {
    if (this.#flushing || this.#queue.length === 0) return;
    const taken = this.#queue;
    const finished = this.#nextFlushDone;
    this.#queue = [];
    this.#nextFlushDone = undefined;
    this.#writing = taken.length;
    this.#flushing = this.#write(taken).finally(() => {
      this.#writing = 0;
      this.#flushing = undefined;
      finished?.resolve();
      const behind = this.#queue.length >= MAX_BATCH || this.#queue.length + this.#writing > this.#options.maxPending;
      if (this.#queue.length > 0) this.#flushSoon(behind ? 0 : this.#options.flushMs);
    });
  }

  async #write(taken: readonly Pending[]): Promise<void> {
    const byTenant = new Map<string, CallRecord[]>();
    for (const { tenant, record } of taken) {
      const records = byTenant.get(tenant);
      if (records) records.push(record);
      else byTenant.set(tenant, [record]);
    }
    const collection = this.#store.collection<CallLogPage>(CALL_LOG);
    // One page per tenant and batch (records.ts), written together.
    const pages: Array<{ key: string; tenant: string; records: number; doc: CallLogPage }> = [];
    for (const [tenant, records] of byTenant) {
      for (let from = 0; from < records.length; from += MAX_BATCH) {
        const batch = records.slice(from, from + MAX_BATCH);
        // Keys are never read back: a fresh one per page, so none can be a duplicate.
        pages.push({ key: randomUUID(), tenant, records: batch.length, doc: callLogPage(batch) });
      }
    }
    await Promise.all(pages.map(async ({ key, tenant, records, doc }) => {
      try {
        await collection.insert(tenant, key, doc);
      } catch (error) {
        this.#log.warn({ err: isMeshError(error) ? error.message : error, tenant, records }, "call records not stored");
      }
    }));
  }
}
