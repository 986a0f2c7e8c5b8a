import { randomUUID } from "node:crypto";
import { llmContract, type UsageEvent } from "../../protocol/llm.ts";
import { isMeshError, type WorkContext } from "../../runtime/index.ts";

export type UsageFields = Omit<UsageEvent, "tenant" | "at" | "fallback" | "errorCode"> & Partial<Pick<UsageEvent, "fallback" | "errorCode">>;

/**
 * Publishes the request's one usage event (event id: a fresh UUID) and waits for the stream to
 * store it, so a caller holding an answer can count on its event. A failed publish is logged
 * and never fails the request: the budget itself is kept by ai-capacity's settlement.
 */
export async function publishUsage(context: WorkContext, fields: UsageFields): Promise<void> {
  const event: UsageEvent = {
    ...fields,
    fallback: fields.fallback ?? false,
    latencyMs: Math.round(fields.latencyMs),
    tenant: context.tenant,
    at: new Date().toISOString(),
  };
  context.recordAiUsage(event);
  try {
    await context.publish(llmContract.events.usage, event, { eventId: randomUUID() });
  } catch (error) {
    context.log.error({ err: isMeshError(error) ? error.message : error, model: event.model, outcome: event.outcome, costUsd: event.costUsd }, "usage event not published");
  }
}
