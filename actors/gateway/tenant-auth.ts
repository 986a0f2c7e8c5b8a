import type { MiddlewareHandler } from "hono";
import { newTraceparentFor } from "./trace.ts";
import { hasCode, MeshError, type ContextMeshClient } from "../../runtime/index.ts";
import { looksLikeApiKey } from "./api-keys.ts";
import type { EdgeEnv, GatewayServices } from "./edge-context.ts";
import { HttpRefusal } from "./http-errors.ts";
import { readEdgeMeta } from "./request-meta.ts";

/**
 * `Authorization: Bearer <key>` -> the tenant (the key's, never a header the client sends);
 * unknown or revoked key 401, a suspended (or deleted) tenant 403, past the tenant's edge rate
 * 429; then the request's deadline, trace and idempotency key from its headers.
 */
export function tenantAuth(services: GatewayServices, defaultTimeoutMs: (path: string) => number): MiddlewareHandler<EdgeEnv> {
  return async function authenticateTenant(c, next) {
    const authorization = c.req.header("authorization") ?? "";
    const token = /^Bearer\s+(\S+)$/i.exec(authorization)?.[1] ?? "";
    if (!token) throw new HttpRefusal(401, "invalid_api_key", "missing API key: send Authorization: Bearer <key>");
    const tenant = looksLikeApiKey(token) ? await services.keys.tenantOf(token) : undefined;
    if (!tenant) throw new HttpRefusal(401, "invalid_api_key", "unknown or revoked API key");
    const meta = readEdgeMeta((name) => c.req.header(name), defaultTimeoutMs(c.req.path), Date.now());
    const traceparent = meta.traceparent ?? newTraceparentFor();
    c.set("tenant", tenant);
    c.set("traceId", traceparent.slice(3, 35));
    c.set("meta", { ...meta, traceparent });
    let policy;
    try {
      policy = await services.policies.get({ tenant, traceparent, signal: c.req.raw.signal, mesh: { client: services.mesh } as ContextMeshClient });
    } catch (error) {
      if (hasCode(error, "NOT_FOUND")) throw new MeshError("FORBIDDEN", "this key's tenant does not exist");
      throw error;
    }
    if (policy.suspended) throw new MeshError("FORBIDDEN", "this key's tenant is suspended");
    const admitted = services.rate.take(tenant, policy.limits.requestsPerMinute, Date.now());
    if (!admitted.ok) throw new MeshError("RATE_LIMITED", "the tenant's request rate at the edge is used up", { retryAfterMs: admitted.retryAfterMs });
    c.set("policy", policy);
    await next();
  };
}
