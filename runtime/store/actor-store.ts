import type { Collection, Document, MongoClient } from "mongodb";
import type { ActorStore, CollectionSpec, GlobalCollection, TenantCollection } from "../types.ts";
import { MeshError, toMeshError } from "../errors.ts";
import { createGlobalCollection, createTenantCollection } from "./collection-views.ts";
import { createDatabaseBreaker, type BreakerState, type DatabaseBreaker } from "./database-breaker.ts";
import { ensureCollectionIndexes, sweepExpiredRecords } from "./expiry-and-indexes.ts";
import { createIdempotencyStore, IDEMPOTENCY_COLLECTION, type IdempotencyStore } from "./idempotency.ts";
import { databaseNameFor } from "./mongo-client.ts";

export interface ActorStoreOptions {
  readonly client: MongoClient;
  readonly actor: string;
  readonly prefix?: string;
  readonly collections: Readonly<Record<string, CollectionSpec>>;
  readonly breaker?: { readonly consecutiveFailures?: number; readonly halfOpenAfterMs?: number };
  readonly onBreakerStateChange?: (state: BreakerState) => void;
  /** The periodic sweeper reports here rather than throwing: a finished sweep, or a failed one. */
  readonly onSwept?: (deleted: number) => void;
  readonly onSweepError?: (error: MeshError) => void;
}

/** What the runtime holds; actors are handed only the `ActorStore` part. */
export interface RuntimeActorStore extends ActorStore {
  ensureIndexes(): Promise<void>;
  /** Deletes expired records in every expiring collection; returns how many. */
  sweepExpired(): Promise<number>;
  /** Sweeps every `intervalMs` (default 60 s) on an unref'd timer; returns the stop function. */
  startExpirySweeper(intervalMs?: number): () => void;
  breakerState(): BreakerState;
  /** At-most-once execution of keyed requests, kept in this actor's own database. */
  readonly idempotency: IdempotencyStore;
}

interface DeclaredCollection {
  readonly name: string;
  readonly spec: CollectionSpec;
  readonly raw: Collection<Document>;
}

// Names starting with "_" are the runtime's own (e.g. "_idempotency").
const COLLECTION_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const DEFAULT_SWEEP_INTERVAL_MS = 60_000;

/**
 * A handle on the actor's own database and nothing else: it never exposes the Db or the
 * client, and every call passes through the database circuit breaker.
 */
export function createActorStore(options: ActorStoreOptions): RuntimeActorStore {
  const databaseName = databaseNameFor(options.actor, options.prefix);
  const db = options.client.db(databaseName);
  const breaker: DatabaseBreaker = createDatabaseBreaker({ ...options.breaker, onStateChange: options.onBreakerStateChange });

  const declared = new Map<string, DeclaredCollection>();
  for (const [name, spec] of Object.entries(options.collections)) {
    if (!COLLECTION_NAME.test(name)) throw new MeshError("INTERNAL", `illegal collection name "${name}"`);
    if (typeof spec?.tenantOwned !== "boolean") throw new MeshError("INTERNAL", `collection "${name}" must say whether it is tenantOwned`);
    declared.set(name, { name, spec, raw: db.collection(name) });
  }
  const idempotencySpec: CollectionSpec = { tenantOwned: false, expires: true };
  const idempotencyRaw = db.collection(IDEMPOTENCY_COLLECTION);
  const everyCollection: DeclaredCollection[] = [...declared.values(), { name: IDEMPOTENCY_COLLECTION, spec: idempotencySpec, raw: idempotencyRaw }];

  const tenantViews = new Map<string, TenantCollection>();
  const globalViews = new Map<string, GlobalCollection>();
  const lookUp = (name: string, tenantOwned: boolean): DeclaredCollection => {
    const found = declared.get(name);
    if (found === undefined) throw new MeshError("INTERNAL", `collection "${name}" is not declared by this actor`);
    if (found.spec.tenantOwned !== tenantOwned) {
      throw new MeshError("INTERNAL", tenantOwned
        ? `collection "${name}" is not tenant-owned: use globalCollection()`
        : `collection "${name}" is tenant-owned: use collection() with a tenant`);
    }
    return found;
  };
  const viewParts = ({ name, raw, spec }: DeclaredCollection) => ({ name, raw, breaker, expires: spec.expires === true });

  const sweepExpired = () => sweepExpiredRecords(everyCollection.filter(({ spec }) => spec.expires === true), breaker);

  const store: RuntimeActorStore = {
    databaseName,
    collection<T extends Document = Document>(name: string): TenantCollection<T> {
      let view = tenantViews.get(name);
      if (view === undefined) tenantViews.set(name, view = createTenantCollection(viewParts(lookUp(name, true))));
      return view as unknown as TenantCollection<T>;
    },
    globalCollection<T extends Document = Document>(name: string): GlobalCollection<T> {
      let view = globalViews.get(name);
      if (view === undefined) globalViews.set(name, view = createGlobalCollection(viewParts(lookUp(name, false))));
      return view as unknown as GlobalCollection<T>;
    },
    ready: async () => {
      await breaker.run(() => db.command({ ping: 1 }));
    },
    ensureIndexes: () => ensureCollectionIndexes(everyCollection, breaker),
    sweepExpired,
    startExpirySweeper(intervalMs = DEFAULT_SWEEP_INTERVAL_MS) {
      if (!Number.isFinite(intervalMs) || intervalMs <= 0) throw new MeshError("INTERNAL", "sweep interval must be a positive number of ms");
      let sweeping = false;
      const timer = setInterval(() => {
        if (sweeping) return; // a slow sweep is not stacked upon
        sweeping = true;
        sweepExpired()
          .then((deleted) => options.onSwept?.(deleted))
          .catch((error: unknown) => options.onSweepError?.(toMeshError(error)))
          .finally(() => { sweeping = false; });
      }, intervalMs);
      timer.unref();
      return () => clearInterval(timer);
    },
    breakerState: () => breaker.state(),
    idempotency: createIdempotencyStore({ name: IDEMPOTENCY_COLLECTION, run: (operation) => breaker.run(() => operation(idempotencyRaw)) }),
  };
  return Object.freeze(store);
}
