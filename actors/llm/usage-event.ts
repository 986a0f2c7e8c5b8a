import { randomUUID } from "node:crypto";
import { llmContract, type UsageEvent } from "../../protocol/llm.ts";
import { isMeshError, MeshError, type WorkContext } from "../../runtime/index.ts";
import { publishDurably } from "./durable-publish.ts";

export type UsageFields = Omit<UsageEvent, "tenant" | "at" | "fallback" | "errorCode"> & Partial<Pick<UsageEvent, "fallback" | "errorCode">>;

const RETRY_LATER_MS = 1000;

/**
 * Publishes the request's one usage event (event id: a fresh UUID, kept across retries) durably:
 * retried, then stored in the outbox (durable-publish.ts). If neither JetStream nor the database
 * takes it, a request the provider billed is still answered (logged as an error: its
 * settlement keeps the budget right), while an answer nothing was billed for (a cache hit) is
 * refused `UNAVAILABLE` so that the caller retries and every answer has its event. A request
 * that fails anyway keeps its own error.
 */
export async function publishUsage(context: WorkContext, fields: UsageFields, retryForMs: number): Promise<void> {
  const event: UsageEvent = {
    ...fields,
    fallback: fields.fallback ?? false,
    latencyMs: Math.round(fields.latencyMs),
    tenant: context.tenant,
    at: new Date().toISOString(),
  };
  context.recordAiUsage(event);
  try {
    await publishDurably(context, llmContract.events.usage, event, randomUUID(), retryForMs);
  } catch (error) {
    const billed = event.promptTokens + event.completionTokens > 0;
    context.log.error({ err: isMeshError(error) ? error.message : error, model: event.model, outcome: event.outcome, costUsd: event.costUsd },
      "usage event neither published nor stored");
    if (!billed && event.outcome === "ok") {
      throw new MeshError("UNAVAILABLE", "usage could not be recorded; retry later", { retryAfterMs: RETRY_LATER_MS, cause: error });
    }
  }
}
