import { setTimeout as sleep } from "node:timers/promises";
import { MeshError } from "../../runtime/index.ts";

/** One version of a record: the whole state, written once under a unique `_id`. */
export interface VersionDoc<S> {
  _id: string;
  key: string;
  version: number;
  state: S;
  at: number;
}

/** Where versions live: a tenant-owned collection (scope = tenant) or a global one (scope ignored). */
export interface VersionLog<S> {
  /** The newest version that still has its state. */
  latest(scope: string, key: string): Promise<VersionDoc<S> | null>;
  /** Writes the next version; false when another writer created it first. */
  append(scope: string, doc: VersionDoc<S>): Promise<boolean>;
  /** Drops the state of one old version; its document (and so its `_id`) stays. */
  retire(scope: string, key: string, version: number): Promise<void>;
  /** Deletes versions without state written before `before` (epoch ms). */
  forget(scope: string, key: string, before: number): Promise<void>;
  versionId(scope: string, key: string, version: number): string;
}

/** Changes the draft in place and returns a result, or throws (a refusal) and changes nothing. */
export type Operation<S, R> = (draft: S, now: number) => R;

interface Queued<S> {
  readonly operation: Operation<S, unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

export interface VersionedStateOptions<S> {
  readonly initial: () => S;
  /** Versions kept whole behind the newest (older ones lose their state now and then). Default 8. */
  readonly keepVersions?: number;
  /** Commit attempts of one batch before its operations fail with OVERLOADED. Default 40. */
  readonly maxAttempts?: number;
}

/**
 * A record changed only by appending its next version with an insert: the unique `_id` makes
 * exactly one writer win each version, on MongoDB and on FerretDB alike (FerretDB 1.x on
 * SQLite runs every update as read, modify, write without isolation, so concurrent `$inc`s and
 * conditional updates lose writes there; its inserts are checked by SQLite and are atomic).
 * A writer that loses re-reads and re-applies its operations: optimistic concurrency, no lock
 * and no leader. Operations arriving at one replica while a commit is in flight are batched
 * into its next commit, so a burst costs a few commits rather than one contended write each.
 *
 * Old versions are retired, not deleted at once: a retired version keeps its `_id`, so a writer
 * that read long ago can never re-create it and believe it committed. Retired versions are
 * deleted after FORGET_AFTER_MS, and a writer whose read is older than MAX_READ_AGE_MS reads again.
 */
const MAX_READ_AGE_MS = 5_000;
const FORGET_AFTER_MS = 120_000;

export class VersionedState<S> {
  readonly #log: VersionLog<S>;
  readonly #initial: () => S;
  readonly #keep: number;
  readonly #maxAttempts: number;
  readonly #queues = new Map<string, Queued<S>[]>();
  readonly #pruning = new Set<Promise<void>>();

  constructor(log: VersionLog<S>, options: VersionedStateOptions<S>) {
    this.#log = log;
    this.#initial = options.initial;
    this.#keep = options.keepVersions ?? 8;
    this.#maxAttempts = options.maxAttempts ?? 40;
  }

  async read(scope: string, key: string): Promise<S> {
    return (await this.#log.latest(scope, key))?.state ?? this.#initial();
  }

  /** Resolves once the pruning started so far has finished (for tests and orderly shutdown). */
  async idle(): Promise<void> {
    await Promise.all([...this.#pruning]);
  }

  update<R>(scope: string, key: string, operation: Operation<S, R>): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const queueKey = `${scope}\u0000${key}`;
      const entry: Queued<S> = { operation, resolve: resolve as (value: unknown) => void, reject };
      const queue = this.#queues.get(queueKey);
      if (queue) {
        queue.push(entry);
        return;
      }
      const fresh = [entry];
      this.#queues.set(queueKey, fresh);
      void this.#drain(queueKey, scope, key, fresh);
    });
  }

  /** Commits batch after batch until nothing is queued for the record. */
  async #drain(queueKey: string, scope: string, key: string, queue: Queued<S>[]): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.splice(0);
      await this.#commit(scope, key, batch).catch((error: unknown) => batch.forEach((entry) => entry.reject(error)));
    }
    this.#queues.delete(queueKey);
  }

  async #commit(scope: string, key: string, batch: readonly Queued<S>[]): Promise<void> {
    for (let attempt = 0; attempt < this.#maxAttempts; attempt++) {
      const readAt = Date.now();
      const head = await this.#log.latest(scope, key);
      const version = head?.version ?? 0;
      const before = head?.state ?? this.#initial();
      const now = Date.now();
      let state = before;
      const outcomes = batch.map((entry) => {
        const draft = structuredClone(state);
        try {
          const value = entry.operation(draft, now);
          state = draft;
          return { ok: true as const, value };
        } catch (error) {
          return { ok: false as const, error };
        }
      });
      const changed = JSON.stringify(state) !== JSON.stringify(before);
      const next = version + 1;
      if (changed && Date.now() - readAt > MAX_READ_AGE_MS) continue;
      if (!changed || (await this.#log.append(scope, { _id: this.#log.versionId(scope, key, next), key, version: next, state, at: now }))) {
        if (changed && next % this.#keep === 0) {
          const pruning = this.#prune(scope, key, next).finally(() => this.#pruning.delete(pruning));
          this.#pruning.add(pruning);
        }
        batch.forEach((entry, index) => {
          const outcome = outcomes[index]!;
          if (outcome.ok) entry.resolve(outcome.value);
          else entry.reject(outcome.error);
        });
        return;
      }
      await sleep(Math.random() * (2 + attempt * 2)); // another replica won this version: spread the retries
    }
    throw new MeshError("OVERLOADED", "too many concurrent changes; try again", { retryAfterMs: 50 });
  }

  /** Best effort: what a failed prune leaves behind, a later one takes. */
  async #prune(scope: string, key: string, newest: number): Promise<void> {
    try {
      for (let version = Math.max(1, newest - 2 * this.#keep + 1); version <= newest - this.#keep; version++) {
        await this.#log.retire(scope, key, version);
      }
      await this.#log.forget(scope, key, Date.now() - FORGET_AFTER_MS);
    } catch {
      // the next prune retires and forgets these too
    }
  }
}
