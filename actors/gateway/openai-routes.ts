import type { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { aiCapacityContract, PriceList } from "../../protocol/ai-capacity.ts";
import { CompletionChunk, CompletionRequest, llmContract, type CompletionResult } from "../../protocol/llm.ts";
import { MeshError } from "../../runtime/index.ts";
import { cacheableJson } from "./cacheable.ts";
import type { EdgeEnv, GatewayServices } from "./edge-context.ts";
import { httpErrorOf, openAiErrorBody } from "./http-errors.ts";
import { callMesh } from "./mesh-routes.ts";
import { chunkWriter, newCompletionId, OpenAiChatRequest, toChatCompletion, toCompletionInput } from "./openai-shapes.ts";
import { SchemaViolation } from "./schema-violation.ts";

const decoder = new TextDecoder();
const decodeChunk = (data: Uint8Array) => CompletionChunk.parse(JSON.parse(decoder.decode(data)));
/** The price table changes only with ai-capacity's configuration: read it once a minute. */
const PRICES_TTL_MS = 60_000;

/** The OpenAI-compatible routes: `POST /v1/chat/completions` (whole or streamed) and `GET /v1/models`. */
export function openAiRoutes(app: Hono<EdgeEnv>, services: GatewayServices): void {
  let prices: { list: PriceList; until: number } | undefined;

  app.get("/v1/models", async (c) => {
    if (!prices || prices.until <= Date.now()) {
      const list = PriceList.parse(await callMesh(services, c.var, aiCapacityContract.requests.prices.subject, {}));
      prices = { list, until: Date.now() + PRICES_TTL_MS };
    }
    const allowed = c.var.policy.allowedModels;
    const models = prices.list.models.filter((entry) => allowed.length === 0 || allowed.includes(entry.model));
    return cacheableJson(c, {
      object: "list",
      data: models.map((entry) => ({
        id: entry.model, object: "model", created: 0, owned_by: "meshwork",
        pricing: { input_per_million_usd: entry.inputPerMillion, output_per_million_usd: entry.outputPerMillion },
      })),
    }, Math.floor(services.config.policyCacheMs / 1000));
  });

  app.post("/v1/chat/completions", async (c) => {
    let body: unknown;
    try {
      body = JSON.parse(await c.req.text());
    } catch {
      throw new MeshError("BAD_REQUEST", "We could not parse the JSON body of your request.");
    }
    const openAi = OpenAiChatRequest.safeParse(body);
    if (!openAi.success) throw new SchemaViolation(openAi.error);
    const input = CompletionRequest.safeParse(toCompletionInput(openAi.data, "gateway"));
    if (!input.success) throw new SchemaViolation(input.error);
    const options = {
      tenant: c.var.tenant, deadline: c.var.meta.deadline, traceparent: c.var.meta.traceparent, maxAttempts: 1,
      ...(c.var.meta.idempotencyKey ? { idempotencyKey: c.var.meta.idempotencyKey } : {}),
    };
    if (!input.data.stream) {
      const result = await services.mesh.request(llmContract.requests.complete, input.data, { ...options, signal: c.req.raw.signal });
      return c.json(toChatCompletion(result));
    }

    // A client gone before the first chunk cancels the stream too (after it, the SSE abort does).
    const call = services.mesh.stream(llmContract.requests.complete, input.data, { ...options, decodeChunk, signal: c.req.raw.signal });
    const chunks = call[Symbol.asyncIterator]();
    // Until the first chunk (or the end) the request can still fail with its own status.
    const first = await chunks.next();
    const id = newCompletionId();
    const writer = chunkWriter(id, input.data.model, openAi.data.stream_options?.include_usage === true);
    return streamSSE(c, async (sse) => {
      sse.onAbort(() => call.cancel());
      await sse.writeSSE({ data: JSON.stringify(writer.first()) });
      try {
        for (let next = first; !next.done; next = await chunks.next()) await sse.writeSSE({ data: JSON.stringify(writer.content(next.value.content)) });
        const result: CompletionResult = await call.result;
        for (const chunk of writer.finish(result)) await sse.writeSSE({ data: JSON.stringify(chunk) });
        if (openAi.data.stream_options?.include_usage) await sse.writeSSE({ data: JSON.stringify(writer.usage(result)) });
        await sse.writeSSE({ data: "[DONE]" });
      } catch (error) {
        // After the 200 went out an error can only be an event: OpenAI's SDKs raise it from the stream.
        if (!sse.aborted) await sse.writeSSE({ data: JSON.stringify(openAiErrorBody(httpErrorOf(error))) });
      }
    });
  });
}
