/**
 * The runtime's public interfaces. Actors see only these (and the helpers re-exported by
 * runtime/index.ts); everything else in runtime/ is internal.
 */
import type { Logger } from "pino";
import type { z } from "zod";
import type { Document, Filter, IndexDescription } from "mongodb";
import type { ActorContract, EventContract, RequestContract } from "../protocol/contract.ts";
import type { Role } from "../protocol/roles.ts";
import type { CallerIdentity } from "./auth/caller-identity.ts";
import type { MeshClient } from "./client/mesh-client.ts";

/** Context of one request or one event delivery. */
export interface WorkContext {
  /** The tenant the work is for ("" only for tenantless requests). */
  readonly tenant: string;
  readonly idempotencyKey: string | undefined;
  /** Absolute deadline (epoch ms). */
  readonly deadline: number;
  /** Aborted when the deadline passes or the actor drains hard. */
  readonly signal: AbortSignal;
  readonly traceparent: string;
  readonly traceId: string;
  /** The calling service ("" when not given). */
  readonly callerService: string;
  /** The caller as the NATS server vouches for it (a tenant-scoped caller acts only as its tenant). */
  readonly caller: CallerIdentity;
  /** Child logger bound to actor, instance, subject, tenant and trace id. */
  readonly log: Logger;
  /** The actor's own database. */
  readonly store: ActorStore;
  /**
   * A client of another actor typed by its contract: `context.call(tenantsContract).get({})`.
   * Calls inherit this work's tenant, trace and remaining deadline (see ContextCallOptions).
   */
  call<C extends ActorContract>(contract: C): ContextClient<C>;
  /** Calls other actors; propagates tenant, deadline and trace (`call` is the typed form). */
  readonly mesh: ContextMeshClient;
  /**
   * For a request of a `streaming` contract that has a reply subject: sends chunks before the
   * handler's return value, which becomes the final reply (wire form: protocol/llm.ts).
   */
  readonly stream?: ReplyStream | undefined;
  /** Counts AI tokens and cost in this process's Prometheus metrics (by tenant, service, model). */
  recordAiUsage(usage: AiUsage): void;
  /** Publishes one of this actor's own events (durable, de-duplicated by event id). */
  publish<E extends EventContract>(event: E, payload: z.input<E["schema"]>, options?: { eventId?: string }): Promise<void>;
}

/** The sending side of a streamed reply. */
export interface ReplyStream {
  /** Sends the next chunk; waits while the caller's window is full; rejects once `signal` aborted. */
  send(chunk: unknown): Promise<void>;
  /** Aborted when the caller cancels or goes silent (windowed streams), or at the deadline. */
  readonly signal: AbortSignal;
  /** Chunks sent so far. */
  readonly sent: number;
}

export interface AiUsage {
  readonly service: string;
  readonly model: string;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly costUsd: number;
}

/**
 * Options of a call made inside a piece of work. Tenant, trace and the deadline come from the
 * work; `timeoutMs` can only shorten the remaining deadline. Without `idempotencyKey` a mutating
 * call gets a random one, and each attempt gets a third of the time left (at least 500 ms), so
 * an attempt whose replica died is retried elsewhere without running the work twice.
 */
export interface ContextCallOptions {
  readonly timeoutMs?: number;
  /** Attempts for retryable codes, including the first. Default 3. */
  readonly maxAttempts?: number;
  readonly idempotencyKey?: string;
}

/** A contract's requests as methods, for calls made inside a piece of work. */
export type ContextClient<C extends ActorContract> = {
  readonly [K in keyof C["requests"]]: (input: z.input<C["requests"][K]["input"]>, options?: ContextCallOptions) => Promise<z.output<C["requests"][K]["output"]>>;
};

/** A MeshClient view that inherits tenant, deadline and trace from the current work. */
export interface ContextMeshClient {
  request<R extends RequestContract>(contract: R, input: z.input<R["input"]>, options?: ContextCallOptions): Promise<z.output<R["output"]>>;
  readonly client: MeshClient;
}

/*
 * Handlers are declared through a method's type: method parameters are compared bivariantly, so
 * an `Actor<typeof tenantsContract>` is an `Actor` (startActor, the actor list) with no cast.
 * That is sound here because the runtime hands a handler only input its contract's schema
 * accepted.
 */
interface RequestHandlerMethod<R extends RequestContract> {
  handle(input: z.output<R["input"]>, context: WorkContext): Promise<z.input<R["output"]>>;
}
interface EventHandlerMethod<E extends EventContract> {
  handle(event: z.output<E["schema"]>, context: EventContext): Promise<void>;
}

export type RequestHandler<R extends RequestContract> = RequestHandlerMethod<R>["handle"];

/** The handler of one request of a contract, for handler files: `Handler<typeof tenantsContract, "get">`. */
export type Handler<C extends ActorContract, K extends keyof C["requests"]> = RequestHandler<C["requests"][K]>;

/** The context of an event delivery: a work context plus the event's id and delivery count. */
export type EventContext = WorkContext & { readonly eventId: string; readonly deliveryCount: number };

export type EventHandler<E extends EventContract> = EventHandlerMethod<E>["handle"];

export interface CollectionSpec {
  /** Tenant-owned collections: every query must name a tenant (the store adds `tenant` to filters). */
  readonly tenantOwned: boolean;
  readonly indexes?: readonly IndexDescription[];
  /**
   * Records expire at their `expiresAt` field. A TTL index is created where the server supports
   * it, and the runtime also deletes expired records itself (FerretDB has no TTL).
   */
  readonly expires?: boolean;
}

export interface ConsumerSpec<E extends EventContract = EventContract> {
  readonly event: E;
  readonly handler: EventHandler<E>;
  /** Deliveries before the event is dead-lettered. Default 5. */
  readonly maxDeliver?: number;
  /** Messages a replica pulls at once. Default 32. */
  readonly batchSize?: number;
  /** Unacknowledged messages in flight across all replicas. Default 256. */
  readonly maxAckPending?: number;
  /** Redelivery backoff for transient failures, ms per attempt. Default [200, 1000, 5000, 15000]. */
  readonly backoffMs?: readonly number[];
  /** Time a delivery may take before it is redelivered elsewhere. Default 30 s. */
  readonly ackWaitMs?: number;
  /**
   * Record processed event ids in the actor's database and skip repeats (default true). Turn it
   * off only when the handler's own write is idempotent by event id (one insert per event id,
   * as `usage` does): it saves a database write per event.
   */
  readonly dedupe?: boolean;
}

export interface ActorLimits {
  /** In-flight requests per replica before OVERLOADED. Default 64. */
  readonly maxInFlight?: number;
  /** Largest accepted request payload in bytes. Default MAX_PAYLOAD_BYTES. */
  readonly maxPayloadBytes?: number;
  /** Deadline applied when the caller sends none, ms. Default 5000. */
  readonly defaultTimeoutMs?: number;
  /**
   * How long stop() lets in-flight requests finish before it aborts their signals and goes on.
   * Default 30 s (the llm actor's default provider timeout).
   */
  readonly drainTimeoutMs?: number;
  /** How long stored idempotent replies are kept, ms. Default 24 h. */
  readonly idempotencyTtlMs?: number;
}

/** What onStart gets: the actor's store, logger, mesh client and its own event publisher (for work outside a request). */
export interface StartContext {
  readonly store: ActorStore;
  readonly log: Logger;
  readonly mesh: MeshClient;
  /** Publishes one of the actor's own events, as a request's `context.publish` does, for a tenant given explicitly. */
  publish(event: EventContract, payload: unknown, meta: { eventId: string; tenant?: string; traceparent?: string }): Promise<void>;
}

/** An actor: what `defineActor` returns, and what `startActor` and the actor list take. */
export interface Actor<C extends ActorContract = ActorContract> {
  readonly name: C["actor"];
  readonly version: string;
  readonly description: string;
  readonly contract: C;
  readonly collections: Readonly<Record<string, CollectionSpec>>;
  readonly handlers: RequestHandlers<C>;
  readonly consumers?: readonly ConsumerSpec[];
  /**
   * The actors this one sends requests to. Its NATS user may publish only their request
   * subjects (those with a role only when `roles` names it); `mesh check` fails a call to an
   * actor that is not listed.
   */
  readonly calls?: readonly ActorContract[];
  /** Privileged roles this actor holds (see protocol/roles.ts). */
  readonly roles?: readonly Role[];
  readonly limits?: ActorLimits;
  /** Called once after the store is ready and before subscriptions start (e.g. to start a sweeper). */
  readonly onStart?: (context: StartContext) => Promise<void | (() => Promise<void>)>;
}

/** The earlier name of `Actor`, kept for existing callers. */
export type ActorDefinition<C extends ActorContract = ActorContract> = Actor<C>;

/** One handler per request of the contract. */
export type RequestHandlers<C extends ActorContract> = { readonly [K in keyof C["requests"]]: RequestHandler<C["requests"][K]> };

/**
 * A tenant-owned collection. The per-request path is the **keyed API**: each record's `_id` is
 * `tenantKey(tenant, key)` = `${tenant}/${key}`, so every call reaches the server as exactly
 * `{ _id }` — a point read or write on MongoDB and on FerretDB alike (FerretDB uses an index for
 * no other filter) — and one tenant's ids can never collide with another's (`acme/` is not
 * `acme-eu/`: tenant ids are `[a-z0-9-]`). Keys are non-empty strings of at most 512 characters.
 * A malformed tenant or key, a document naming another tenant or its own `_id`, and (in an
 * expiring collection) a document without `expiresAt` are `MeshError INTERNAL` before any
 * database call. Stored records carry `tenant` too, and reads return them as stored (with `_id`
 * and `tenant`).
 *
 * Filter-based calls live under `scan`: they cost a whole-collection scan on FerretDB.
 */
export interface TenantCollection<T extends Document = Document> {
  readonly name: string;
  /** The record under `key`, or null if absent, another tenant's, or expired (point read by `_id`). */
  get(tenant: string, key: string): Promise<T | null>;
  /**
   * `get` for each key, as parallel point reads, in the order of `keys` (null where absent).
   * At most 256 keys (else INTERNAL); every key is checked before the first read.
   */
  getMany(tenant: string, keys: readonly string[]): Promise<(T | null)[]>;
  /**
   * Stores a new record under `key`. Unique: if the id exists (even expired but not yet swept)
   * it is `MeshError CONFLICT`, and of several concurrent inserts of one key exactly one
   * succeeds, on FerretDB too: the primitive to build race-free state on.
   */
  insert(tenant: string, key: string, doc: T): Promise<void>;
  /**
   * Inserts up to 1000 records in one unordered `insertMany` round trip (more is INTERNAL; every
   * entry is checked before the call). Keys refused because their `_id` exists (or repeats
   * within the batch) are returned in `duplicates`, the rest in `inserted`; any other failure
   * throws, and then some entries may have been stored.
   */
  insertMany(tenant: string, entries: readonly { key: string; doc: T }[]): Promise<{ inserted: string[]; duplicates: string[] }>;
  /**
   * Replaces the record under `key`, or inserts it (replace with upsert by exactly `{_id}`).
   * Last writer wins. Not safe for a concurrent read-modify-write: two callers that each
   * `get`, change and `put` lose one change (on every server). Race-prone state is built on
   * `insert` instead.
   */
  put(tenant: string, key: string, doc: T): Promise<void>;
  /** Deletes the record under `key` (deleteOne by exactly `{_id}`); true if this call deleted it. */
  remove(tenant: string, key: string): Promise<boolean>;
  /**
   * Inserts a record with an `_id` of its own (a string one must start with `${tenant}/`) or a
   * generated one, for records that are never read back by key (logs, samples).
   */
  insertOne(tenant: string, doc: T): Promise<void>;
  /**
   * Filter-based reads and writes. Each one scans the whole collection on FerretDB (the
   * tenant is always added to the filter, and only `{_id}` alone is served by an index), and
   * needs a declared index on MongoDB. Reserved for operator and background queries, never a
   * per-request path.
   */
  readonly scan: TenantScans<T>;
}

/**
 * The filter-based calls of a tenant-owned collection: whole-collection scans on FerretDB, for
 * operator and background queries. The tenant is added to every filter (a filter naming
 * another tenant, or an update changing `tenant`, is INTERNAL); in expiring collections reads
 * see only unexpired records.
 */
export interface TenantScans<T extends Document = Document> {
  findOne(tenant: string, filter: Filter<T>): Promise<T | null>;
  find(tenant: string, filter: Filter<T>, options?: { sort?: Document; limit?: number }): Promise<T[]>;
  countDocuments(tenant: string, filter: Filter<T>): Promise<number>;
  /** Gets a leading `$match` on the tenant; stages that reach other collections are refused. */
  aggregate<R extends Document = Document>(tenant: string, pipeline: Document[]): Promise<R[]>;
  /**
   * Single-document update returning the document after it, or null. Atomic on MongoDB only:
   * FerretDB reads, modifies and writes back with no isolation (concurrent updates are lost).
   */
  findOneAndUpdate(tenant: string, filter: Filter<T>, update: Document, options?: { upsert?: boolean }): Promise<T | null>;
  /** Same FerretDB caveat as findOneAndUpdate. */
  updateOne(tenant: string, filter: Filter<T>, update: Document, options?: { upsert?: boolean }): Promise<{ matched: number; modified: number; upserted: boolean }>;
  deleteOne(tenant: string, filter: Filter<T>): Promise<number>;
  deleteMany(tenant: string, filter: Filter<T>): Promise<number>;
}

/**
 * A collection not owned by a tenant (declared with tenantOwned: false): the filter calls with
 * no tenant. Only `findById` (exactly `{_id}`) is a point read on FerretDB; any other filter
 * scans the collection there.
 */
export interface GlobalCollection<T extends Document = Document> {
  readonly name: string;
  findOne(filter: Filter<T>): Promise<T | null>;
  /** The document with this string `_id` (and not expired). */
  findById(id: string): Promise<T | null>;
  find(filter: Filter<T>, options?: { sort?: Document; limit?: number }): Promise<T[]>;
  insertOne(doc: T): Promise<void>;
  findOneAndUpdate(filter: Filter<T>, update: Document, options?: { upsert?: boolean }): Promise<T | null>;
  updateOne(filter: Filter<T>, update: Document, options?: { upsert?: boolean }): Promise<{ matched: number; modified: number; upserted: boolean }>;
  deleteOne(filter: Filter<T>): Promise<number>;
  deleteMany(filter: Filter<T>): Promise<number>;
  countDocuments(filter: Filter<T>): Promise<number>;
  aggregate<R extends Document = Document>(pipeline: Document[]): Promise<R[]>;
}

export interface ActorStore {
  /** The database name: `${prefix}_${actor}` with dashes as underscores (or just the actor name). */
  readonly databaseName: string;
  /** A tenant-owned collection; throws (programming error) if the spec is not tenantOwned. */
  collection<T extends Document = Document>(name: string): TenantCollection<T>;
  /** A collection declared with tenantOwned: false; throws if it is tenant-owned. */
  globalCollection<T extends Document = Document>(name: string): GlobalCollection<T>;
  /** Throws MeshError UNAVAILABLE at once while the database circuit is open. */
  readonly ready: () => Promise<void>;
}
