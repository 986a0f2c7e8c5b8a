import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { EdgeEnv, GatewayServices } from "./edge-context.ts";
import { HttpRefusal, httpErrorOf, meshErrorBody, openAiErrorBody } from "./http-errors.ts";
import { meshRoutes } from "./mesh-routes.ts";
import { openApiDocument } from "./openapi.ts";
import { openAiRoutes } from "./openai-routes.ts";
import { SchemaViolation } from "./schema-violation.ts";
import { tenantAuth } from "./tenant-auth.ts";

const isOpenAiPath = (path: string) => path === "/v1/chat/completions" || path === "/v1/models";

/**
 * The gateway's HTTP application: access log and metrics around everything, public health and
 * documents, then the tenant's key, edge rate and headers for every `/v1` route. One place turns
 * errors into replies (OpenAI's shape on the OpenAI routes, the mesh's elsewhere).
 */
export function createHttpApp(services: GatewayServices, version: string): Hono<EdgeEnv> {
  const app = new Hono<EdgeEnv>();
  const openApi = JSON.stringify(openApiDocument(version));

  app.use(async function accessLog(c, next) {
    const started = performance.now();
    await next();
    if (services.draining()) c.header("connection", "close");
    const route = c.req.routePath === "/v1/:actor/:verb" ? "/v1/:actor/:verb" : c.req.routePath;
    const seconds = (performance.now() - started) / 1000;
    services.metrics.record(route, c.req.method, c.res.status, seconds);
    // Never the key or a body: tenant and trace identify the request.
    services.log.info({ method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(seconds * 1000), tenant: c.get("tenant"), traceId: c.get("traceId") }, "http request");
  });

  app.get("/healthz", (c) => c.json({ ok: true }));
  app.get("/readyz", async (c) => (!services.draining() && (await services.ready()) ? c.json({ ready: true }) : c.json({ ready: false }, 503)));
  app.get("/openapi.json", (c) => c.body(openApi, 200, { "content-type": "application/json" }));
  app.get("/metrics", async (c) => c.body(await services.metrics.registry.metrics(), 200, { "content-type": services.metrics.registry.contentType }));

  app.use("/v1/*", bodyLimit({
    maxSize: services.config.bodyLimitBytes,
    onError: () => { throw new HttpRefusal(413, "request_too_large", `the request body is larger than ${services.config.bodyLimitBytes} bytes`); },
  }));
  app.use("/v1/*", tenantAuth(services, (path) => (path === "/v1/chat/completions" || path === "/v1/llm/complete" ? services.config.completionTimeoutMs : services.config.defaultTimeoutMs)));
  openAiRoutes(app, services);
  meshRoutes(app, services);

  app.notFound((c) => c.json(meshErrorBody(httpErrorOf(new HttpRefusal(404, "NOT_FOUND", `no route ${c.req.method} ${c.req.path}`))), 404));
  app.onError((thrown, c) => {
    const error = httpErrorOf(thrown, thrown instanceof SchemaViolation ? thrown.issues : undefined);
    if (error.status >= 500 && error.code === "INTERNAL") services.log.error({ err: thrown, path: c.req.path }, "request failed");
    const body = isOpenAiPath(c.req.path) ? openAiErrorBody(error) : meshErrorBody(error);
    // The rest of an oversize body is never read, so the connection cannot carry another request.
    const headers = error.status === 413 ? { ...error.headers, connection: "close" } : error.headers;
    return c.json(body, error.status as 400, headers);
  });
  return app;
}
