import type { Hono } from "hono";
import { tenantsContract } from "../../protocol/tenants.ts";
import { MeshError } from "../../runtime/index.ts";
import { cacheableJson } from "./cacheable.ts";
import { HTTP_ROUTES } from "./contracts.ts";
import type { EdgeEnv, GatewayServices } from "./edge-context.ts";
import { SchemaViolation } from "./schema-violation.ts";

/**
 * `POST /v1/<actor>/<verb>`: the JSON body is the request's input, validated here with the
 * contract's schema (400 with the zod issues), sent to `<actor>.<verb>` as the key's tenant
 * with the deadline, trace and idempotency key; the reply is the body. `GET /v1/tenants/get`
 * is the cacheable read of the tenant's policy.
 */
export function meshRoutes(app: Hono<EdgeEnv>, services: GatewayServices): void {
  app.get("/v1/tenants/get", async (c) => {
    const policy = await call(services, c.var, tenantsContract.requests.get.subject, {});
    return cacheableJson(c, policy, Math.floor(services.config.policyCacheMs / 1000));
  });

  app.post("/v1/:actor/:verb", async (c) => {
    const route = HTTP_ROUTES.get(c.req.path);
    if (!route) throw new MeshError("NOT_FOUND", `no request ${c.req.param("actor")}.${c.req.param("verb")}`);
    if (!route.served) throw new MeshError("FORBIDDEN", `${route.request.subject} is not open to tenants`);
    let body: unknown;
    try {
      const text = await c.req.text();
      body = text.length === 0 ? {} : JSON.parse(text);
    } catch {
      throw new MeshError("BAD_REQUEST", "body is not valid JSON");
    }
    const input = route.request.input.safeParse(body);
    if (!input.success) throw new SchemaViolation(input.error);
    if ((input.data as { stream?: unknown }).stream === true) throw new MeshError("BAD_REQUEST", "stream over HTTP through POST /v1/chat/completions");
    return c.json(await call(services, c.var, route.request.subject, input.data) as object);
  });
}

async function call(services: GatewayServices, vars: EdgeEnv["Variables"], subject: string, input: unknown): Promise<unknown> {
  return services.mesh.requestBytes(subject, Buffer.from(JSON.stringify(input)), {
    tenant: vars.tenant,
    deadline: vars.meta.deadline,
    // One attempt: the HTTP client retries on its own (Retry-After), so retries are not stacked.
    maxAttempts: 1,
    ...(vars.meta.traceparent ? { traceparent: vars.meta.traceparent } : {}),
    ...(vars.meta.idempotencyKey ? { idempotencyKey: vars.meta.idempotencyKey } : {}),
  });
}
export { call as callMesh };
