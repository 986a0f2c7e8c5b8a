/**
 * The runtime's public interfaces. Actors see only these (and the helpers re-exported by
 * runtime/index.ts); everything else in runtime/ is internal.
 */
import type { Logger } from "pino";
import type { z } from "zod";
import type { Document, Filter, IndexDescription } from "mongodb";
import type { ActorContract, EventContract, RequestContract } from "../protocol/contract.ts";
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
  /** Child logger bound to actor, instance, subject, tenant and trace id. */
  readonly log: Logger;
  /** The actor's own database. */
  readonly store: ActorStore;
  /** Calls other actors; propagates tenant, deadline and trace. */
  readonly mesh: ContextMeshClient;
  /** Counts AI tokens and cost in this process's Prometheus metrics (by tenant, service, model). */
  recordAiUsage(usage: AiUsage): void;
  /** Publishes one of this actor's own events (durable, de-duplicated by event id). */
  publish<E extends EventContract>(event: E, payload: z.input<E["schema"]>, options?: { eventId?: string }): Promise<void>;
}

export interface AiUsage {
  readonly service: string;
  readonly model: string;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly costUsd: number;
}

/** A MeshClient view that inherits tenant, deadline and trace from the current work. */
export interface ContextMeshClient {
  request<R extends RequestContract>(contract: R, input: z.input<R["input"]>, options?: { idempotencyKey?: string; timeoutMs?: number }): Promise<z.output<R["output"]>>;
  readonly client: MeshClient;
}

export type RequestHandler<R extends RequestContract> = (input: z.output<R["input"]>, context: WorkContext) => Promise<z.input<R["output"]>>;

export type EventHandler<E extends EventContract> = (event: z.output<E["schema"]>, context: WorkContext & { readonly eventId: string; readonly deliveryCount: number }) => Promise<void>;

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
  /** How long stored idempotent replies are kept, ms. Default 24 h. */
  readonly idempotencyTtlMs?: number;
}

export interface ActorDefinition<C extends ActorContract = ActorContract> {
  readonly name: C["actor"];
  readonly version: string;
  readonly description: string;
  readonly contract: C;
  readonly collections: Readonly<Record<string, CollectionSpec>>;
  readonly handlers: { readonly [K in keyof C["requests"]]: RequestHandler<C["requests"][K]> };
  readonly consumers?: readonly ConsumerSpec[];
  readonly limits?: ActorLimits;
  /** Called once after the store is ready and before subscriptions start (e.g. to start a sweeper). */
  readonly onStart?: (context: { store: ActorStore; log: Logger; mesh: MeshClient }) => Promise<void | (() => Promise<void>)>;
}

/** A collection view. Tenant-owned collections require `tenant` in every call. */
export interface TenantCollection<T extends Document = Document> {
  readonly name: string;
  findOne(tenant: string, filter: Filter<T>): Promise<T | null>;
  /**
   * The document with this string `_id` if it belongs to the tenant (and has not expired). The
   * fastest read on every server: choose ids that start with the tenant, e.g. `${tenant}/${key}`,
   * since `_id` is unique across the whole collection.
   */
  findById(tenant: string, id: string): Promise<T | null>;
  find(tenant: string, filter: Filter<T>, options?: { sort?: Document; limit?: number }): Promise<T[]>;
  insertOne(tenant: string, doc: T): Promise<void>;
  /** Atomic single-document update; returns the document after the update, or null. */
  findOneAndUpdate(tenant: string, filter: Filter<T>, update: Document, options?: { upsert?: boolean }): Promise<T | null>;
  updateOne(tenant: string, filter: Filter<T>, update: Document, options?: { upsert?: boolean }): Promise<{ matched: number; modified: number; upserted: boolean }>;
  deleteOne(tenant: string, filter: Filter<T>): Promise<number>;
  deleteMany(tenant: string, filter: Filter<T>): Promise<number>;
  countDocuments(tenant: string, filter: Filter<T>): Promise<number>;
  aggregate<R extends Document = Document>(tenant: string, pipeline: Document[]): Promise<R[]>;
}

/** A collection not owned by a tenant (declared with tenantOwned: false): same calls, no tenant. */
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
