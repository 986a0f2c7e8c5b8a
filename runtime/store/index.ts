export { createMongoClient, databaseNameFor, FAIL_FAST_CLIENT_OPTIONS } from "./mongo-client.ts";
export { createActorStore, type ActorStoreOptions, type RuntimeActorStore } from "./actor-store.ts";
export type { BreakerState } from "./database-breaker.ts";
export { isConnectivityError, isDuplicateKeyError } from "./database-errors.ts";
export {
  createIdempotencyStore, IDEMPOTENCY_COLLECTION,
  type BeginResult, type GuardedCollection, type IdempotencyStore, type IdempotentReply,
} from "./idempotency.ts";
export type { ClaimParams, KeyedParams, OwnedParams } from "./idempotency-params.ts";
