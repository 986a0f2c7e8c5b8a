/** The public runtime API for actors and callers. Everything else in runtime/ is internal. */
export { defineActor, consumeEvent } from "./define-actor.ts";
export { startActor, type RunningActor } from "./actor/start-actor.ts";
export { MeshClient, actorClient, type CallOptions } from "./client/mesh-client.ts";
export { connectNats } from "./client/connect-nats.ts";
export { type StreamCall, DEFAULT_STREAM_WINDOW } from "./client/stream-request.ts";
export { MeshError, isMeshError, hasCode, toMeshError } from "./errors.ts";
export { retryWithin, retryDelayMs, jitter, isRetryable, type RetryOptions, type Backoff } from "./resilience/retry.ts";
export { runtimeConfigFromEnv, RuntimeConfigSchema, type RuntimeConfig } from "./config.ts";
export { createLogger } from "./observability/logger.ts";
export { startTracing, stopTracing, flushTracing, tracingEnabled, traceProviderCall } from "./observability/tracing.ts";
export { createTenantPolicyCache, type TenantPolicyCache } from "./tenancy/tenant-policy-cache.ts";
export type * from "./types.ts";
export { tenantKey } from "./store/tenant-keys.ts";
export { assertMayActFor, ownerKey, type CallerIdentity } from "./auth/caller-identity.ts";
export { natsAuthFromCreds, type NatsAuthOptions } from "./auth/nats-credentials.ts";
