import type { VersionDoc, VersionLog } from "./versioned-state.ts";

/**
 * The newest version of a record as this process last saw it. A version never changes once
 * written, so its state may be reused; what may change is whether it is still the newest,
 * and `confirmedAt` says when it last was (the next version did not exist yet).
 */
export interface Head<S> {
  readonly version: number;
  readonly state: S;
  readonly confirmedAt: number;
}

/** Versions read forward by `_id` before the sorted query is used instead. */
const MAX_PROBES = 16;

/**
 * Finds the newest version of a record by `_id` from what this process last knew of it:
 * reads `known + 1`, `+ 2`, ... until one is missing (on FerretDB only a filter of exactly
 * `{ _id }` reaches SQLite's index; anything else scans the collection). A missing `_id` proves
 * the one before it is the newest only while versions after it cannot have been forgotten
 * yet, so a hint older than `maxHintAgeMs` (less than the age at which retired versions are
 * deleted) is not used: the sorted query on the log decides then, as it does for a record
 * this process has not seen. The database stays the truth; the hint only saves a scan.
 */
export class VersionHeads<S> {
  readonly #log: VersionLog<S>;
  readonly #initial: () => S;
  readonly #maxHintAgeMs: number;
  readonly #heads = new Map<string, Head<S>>();

  constructor(log: VersionLog<S>, initial: () => S, maxHintAgeMs: number) {
    this.#log = log;
    this.#initial = initial;
    this.#maxHintAgeMs = maxHintAgeMs;
  }

  /** The head as last seen, without a read; undefined when unknown. */
  known(recordKey: string): Head<S> | undefined {
    return this.#heads.get(recordKey);
  }

  /** Remembers a version this process has just written (it was the newest when the insert began). */
  wrote(recordKey: string, head: Head<S>): void {
    this.#heads.set(recordKey, head);
  }

  forget(recordKey: string): void {
    this.#heads.delete(recordKey);
  }

  /** Reads the newest version from the database (version 0 with the initial state when none exists). */
  async read(recordKey: string, scope: string, key: string): Promise<Head<S>> {
    const startedAt = Date.now();
    const hint = this.#heads.get(recordKey);
    const found = hint && startedAt - hint.confirmedAt < this.#maxHintAgeMs ? await this.#probe(hint, scope, key, startedAt) : undefined;
    const head = found ?? this.#fromDoc(await this.#log.latest(scope, key), startedAt);
    this.#heads.set(recordKey, head);
    return head;
  }

  async #probe(hint: Head<S>, scope: string, key: string, startedAt: number): Promise<Head<S> | undefined> {
    let newest: VersionDoc<S> | undefined;
    for (let version = hint.version + 1; version <= hint.version + MAX_PROBES; version++) {
      const doc = await this.#log.get(scope, key, version);
      if (!doc) {
        if (!newest) return { version: hint.version, state: hint.state, confirmedAt: startedAt };
        // The newest version always keeps its state; one without it means we were overtaken: ask the index.
        return newest.state === undefined ? undefined : { version: newest.version, state: newest.state, confirmedAt: startedAt };
      }
      newest = doc;
    }
    return undefined;
  }

  #fromDoc(doc: VersionDoc<S> | null, confirmedAt: number): Head<S> {
    return doc ? { version: doc.version, state: doc.state, confirmedAt } : { version: 0, state: this.#initial(), confirmedAt };
  }
}
