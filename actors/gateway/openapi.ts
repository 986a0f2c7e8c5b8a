import { z } from "zod";
import { ErrorBody } from "../../protocol/errors.ts";
import { HTTP_ROUTES } from "./contracts.ts";
import { OpenAiChatRequest } from "./openai-shapes.ts";

const json = (schema: object) => ({ "application/json": { schema } });
const schemaOf = (schema: z.ZodType, io: "input" | "output") => z.toJSONSchema(schema, { io, unrepresentable: "any" });

const errorResponse = (description: string) => ({
  description,
  content: json(schemaOf(z.object({ error: ErrorBody.extend({ issues: z.array(z.unknown()).optional() }) }), "output")),
});

const MESH_ERRORS = {
  400: errorResponse("BAD_REQUEST: the body violates the schema (with zod's issues), or malformed headers"),
  401: errorResponse("no, unknown or revoked API key"),
  402: errorResponse("OVER_BUDGET"),
  403: errorResponse("FORBIDDEN; a suspended tenant; a request not open to tenants"),
  404: errorResponse("NOT_FOUND"),
  409: errorResponse("CONFLICT"),
  413: errorResponse("body larger than the gateway's limit"),
  429: errorResponse("RATE_LIMITED (the tenant's edge rate, or the mesh's capacity); Retry-After says when"),
  503: errorResponse("OVERLOADED or UNAVAILABLE; Retry-After says when"),
  504: errorResponse("TIMEOUT: the deadline passed"),
};

const HEADER_PARAMETERS = [
  { name: "Idempotency-Key", in: "header", required: false, schema: { type: "string", maxLength: 128 }, description: "a mutating request with a key runs at most once per actor and tenant" },
  { name: "traceparent", in: "header", required: false, schema: { type: "string" }, description: "W3C trace context, passed on" },
  { name: "Mw-Timeout-Ms", in: "header", required: false, schema: { type: "integer", minimum: 1, maximum: 300000 }, description: "the request's deadline, ms (X-Stainless-Timeout in seconds is read too)" },
];

/**
 * The OpenAPI 3.1 document, generated from the zod contracts (zod 4's JSON Schema output,
 * draft 2020-12, which OpenAPI 3.1 uses): one `POST /v1/<actor>/<verb>` per request subject of
 * every actor, and the OpenAI-compatible routes.
 */
export function openApiDocument(version: string): object {
  const paths: Record<string, object> = {};
  for (const route of HTTP_ROUTES.values()) {
    paths[route.path] = {
      post: {
        operationId: route.request.subject,
        summary: route.served ? `${route.request.subject} as the key's tenant` : `${route.request.subject}: not open to tenants (always 403)`,
        "x-mesh-subject": route.request.subject,
        parameters: HEADER_PARAMETERS,
        requestBody: { required: true, content: json(schemaOf(route.request.input, "input")) },
        responses: { 200: { description: "the reply", content: json(schemaOf(route.request.output, "output")) }, ...MESH_ERRORS },
      },
    };
  }
  paths["/v1/tenants/get"] = {
    ...paths["/v1/tenants/get"],
    get: {
      operationId: "tenants.get (cacheable)",
      summary: "the tenant's policy, with ETag and Cache-Control; If-None-Match answers 304",
      responses: { 200: { description: "the policy", content: json(schemaOf(HTTP_ROUTES.get("/v1/tenants/get")!.request.output, "output")) }, 304: { description: "not modified" }, ...MESH_ERRORS },
    },
  };
  paths["/v1/chat/completions"] = {
    post: {
      operationId: "chat.completions",
      summary: "OpenAI-compatible chat completion through llm.complete; stream: true answers server-sent chunks",
      parameters: HEADER_PARAMETERS,
      requestBody: { required: true, content: json(schemaOf(OpenAiChatRequest, "input")) },
      responses: {
        200: { description: "a chat.completion, or text/event-stream of chat.completion.chunk", content: { "application/json": { schema: { type: "object" } }, "text/event-stream": { schema: { type: "string" } } } },
        ...MESH_ERRORS,
      },
    },
  };
  paths["/v1/models"] = {
    get: {
      operationId: "models",
      summary: "the tenant's allowed, priced models (OpenAI's list shape), with ETag",
      responses: { 200: { description: "model list", content: json({ type: "object" }) }, 304: { description: "not modified" }, ...MESH_ERRORS },
    },
  };
  return {
    openapi: "3.1.0",
    info: { title: "Meshwork gateway", version, description: "Every actor's request subjects over HTTP, and the OpenAI API, for the tenant of the API key." },
    components: { securitySchemes: { apiKey: { type: "http", scheme: "bearer", description: "a tenant API key from `npx mesh keys create <tenant>`" } } },
    security: [{ apiKey: [] }],
    paths,
  };
}
