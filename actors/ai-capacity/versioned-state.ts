import { setTimeout as sleep } from "node:timers/promises";
import { MeshError, retryDelayMs } from "../../runtime/index.ts";
import { VersionHeads } from "./version-heads.ts";

/** Pauses between commit attempts that lost a version race: 2, 4, 8 ... up to 20 ms (the mesh's retry policy and jitter). */
const COMMIT_BACKOFF = { initialDelayMs: 2, maxDelayMs: 20 };

/** One version of a record: the whole state, written once under a unique `_id`. */
export interface VersionDoc<S> {
  _id: string;
  key: string;
  version: number;
  state: S;
  at: number;
}

/** Where versions live: `_id` = versionId(scope, key, version), unique. */
export interface VersionLog<S> {
  /** The newest version that still has its state (a sorted query: the fallback when no hint helps). */
  latest(scope: string, key: string): Promise<VersionDoc<S> | null>;
  /** One version by its `_id` (retired ones come back without state); null when it does not exist. */
  get(scope: string, key: string, version: number): Promise<VersionDoc<S> | null>;
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

/**
 * ai-capacity's one storage seam: a record's state is read, or changed by a pure operation that
 * is applied to the newest state atomically (refused operations change nothing). The domain
 * (lease-ops.ts, provider-health.ts, bucket-math.ts) knows only this; VersionedState is the
 * FerretDB-safe implementation behind it.
 */
export interface StateStore<S> {
  read(scope: string, key: string): Promise<S>;
  update<R>(scope: string, key: string, operation: Operation<S, R>): Promise<R>;
}

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
 * A replica remembers the version it last wrote or read (version-heads.ts) and applies the
 * next batch to it without reading: the insert of the next `_id` is the check, and a writer
 * that loses reads forward by `_id`. A batch that changes nothing (a refusal, a repeat) is
 * answered only after the remembered version is confirmed as the newest by one `_id` read.
 *
 * Old versions are retired, not deleted at once: a retired version keeps its `_id`, so a writer
 * that read long ago can never re-create it and believe it committed. Retired versions are
 * deleted after FORGET_AFTER_MS, a writer whose read is older than MAX_READ_AGE_MS reads again,
 * and a remembered version older than MAX_HINT_AGE_MS is not read forward from.
 */
const MAX_READ_AGE_MS = 5_000;
const FORGET_AFTER_MS = 120_000;
const MAX_HINT_AGE_MS = 60_000;
/** Deleting forgotten versions needs a query FerretDB cannot index: once per this, per record and replica. */
const FORGET_EVERY_MS = 20_000;

export class VersionedState<S> implements StateStore<S> {
  readonly #log: VersionLog<S>;
  readonly #heads: VersionHeads<S>;
  readonly #initial: () => S;
  readonly #keep: number;
  readonly #maxAttempts: number;
  readonly #queues = new Map<string, Queued<S>[]>();
  readonly #pruning = new Set<Promise<void>>();
  readonly #forgottenAt = new Map<string, number>();

  constructor(log: VersionLog<S>, options: VersionedStateOptions<S>) {
    this.#log = log;
    this.#initial = options.initial;
    this.#heads = new VersionHeads(log, options.initial, MAX_HINT_AGE_MS);
    this.#keep = options.keepVersions ?? 8;
    this.#maxAttempts = options.maxAttempts ?? 40;
  }

  /** The newest state, read from the database (by `_id` when this replica knows the record). */
  async read(scope: string, key: string): Promise<S> {
    return structuredClone((await this.#heads.read(recordKeyOf(scope, key), scope, key)).state);
  }

  /** Resolves once the pruning started so far has finished (for tests and orderly shutdown). */
  async idle(): Promise<void> {
    await Promise.all([...this.#pruning]);
  }

  update<R>(scope: string, key: string, operation: Operation<S, R>): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const recordKey = recordKeyOf(scope, key);
      const entry: Queued<S> = { operation, resolve: resolve as (value: unknown) => void, reject };
      const queue = this.#queues.get(recordKey);
      if (queue) {
        queue.push(entry);
        return;
      }
      const fresh = [entry];
      this.#queues.set(recordKey, fresh);
      void this.#drain(recordKey, scope, key, fresh);
    });
  }

  /** Commits batch after batch until nothing is queued for the record. */
  async #drain(recordKey: string, scope: string, key: string, queue: Queued<S>[]): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.splice(0);
      await this.#commit(recordKey, scope, key, batch).catch((error: unknown) => {
        this.#heads.forget(recordKey); // an insert that failed oddly may still have happened
        batch.forEach((entry) => entry.reject(error));
      });
    }
    this.#queues.delete(recordKey);
  }

  async #commit(recordKey: string, scope: string, key: string, batch: readonly Queued<S>[]): Promise<void> {
    let known = this.#heads.known(recordKey);
    for (let attempt = 0; attempt < this.#maxAttempts; attempt++) {
      const remembered = known !== undefined && Date.now() - known.confirmedAt <= MAX_READ_AGE_MS;
      const head = remembered ? known! : await this.#heads.read(recordKey, scope, key);
      const now = Date.now();
      const { state, outcomes } = applyBatch(head.state, batch, now);
      const changed = JSON.stringify(state) !== JSON.stringify(head.state);
      const next = head.version + 1;
      known = undefined; // from here on, an attempt that does not finish reads again
      if (!changed) {
        // Nothing to write, so no insert checks the version: confirm it is still the newest.
        if (remembered && (await this.#heads.read(recordKey, scope, key)).version !== head.version) continue;
        settleBatch(batch, outcomes);
        return;
      }
      if (Date.now() - head.confirmedAt > MAX_READ_AGE_MS) continue;
      const insertAt = Date.now();
      if (await this.#log.append(scope, { _id: this.#log.versionId(scope, key, next), key, version: next, state, at: now })) {
        this.#heads.wrote(recordKey, { version: next, state, confirmedAt: insertAt });
        if (next % this.#keep === 0) this.#startPruning(recordKey, scope, key, next);
        settleBatch(batch, outcomes);
        return;
      }
      // Another replica won this version: read forward from it, after a pause that spreads the retries.
      if (attempt > 0) await sleep(retryDelayMs(attempt, undefined, COMMIT_BACKOFF));
    }
    throw new MeshError("OVERLOADED", "too many concurrent changes; try again", { retryAfterMs: 50 });
  }

  #startPruning(recordKey: string, scope: string, key: string, newest: number): void {
    const pruning = this.#prune(recordKey, scope, key, newest).finally(() => this.#pruning.delete(pruning));
    this.#pruning.add(pruning);
  }

  /** Best effort: what a failed prune leaves behind, a later one takes. */
  async #prune(recordKey: string, scope: string, key: string, newest: number): Promise<void> {
    try {
      for (let version = Math.max(1, newest - 2 * this.#keep + 1); version <= newest - this.#keep; version++) {
        await this.#log.retire(scope, key, version);
      }
      const now = Date.now();
      if (now - (this.#forgottenAt.get(recordKey) ?? 0) < FORGET_EVERY_MS) return;
      this.#forgottenAt.set(recordKey, now);
      await this.#log.forget(scope, key, now - FORGET_AFTER_MS);
    } catch {
      // the next prune retires and forgets these too
    }
  }
}

const recordKeyOf = (scope: string, key: string) => `${scope}\u0000${key}`;

type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

/** Runs each operation on a copy; a throwing operation leaves the state as the one before it left it. */
function applyBatch<S>(start: S, batch: readonly Queued<S>[], now: number): { state: S; outcomes: Outcome[] } {
  let state = start;
  const outcomes = batch.map((entry): Outcome => {
    const draft = structuredClone(state);
    try {
      const value = entry.operation(draft, now);
      state = draft;
      return { ok: true, value };
    } catch (error) {
      return { ok: false, error };
    }
  });
  return { state, outcomes };
}

function settleBatch<S>(batch: readonly Queued<S>[], outcomes: readonly Outcome[]): void {
  batch.forEach((entry, index) => {
    const outcome = outcomes[index]!;
    if (outcome.ok) entry.resolve(outcome.value);
    else entry.reject(outcome.error);
  });
}
