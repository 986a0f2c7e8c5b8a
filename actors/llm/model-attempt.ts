import type OpenAI from "openai";
import type { CompletionRequest } from "../../protocol/llm.ts";
import type { TenantPolicy } from "../../protocol/tenants.ts";
import { MeshError, type WorkContext } from "../../runtime/index.ts";
import { leaseCapacity, settleLease, signalProvider } from "./capacity.ts";
import type { LlmConfig } from "./config.ts";
import { signalForFailure } from "./failure-replies.ts";
import type { ProviderBreakers } from "./provider-breakers.ts";
import { callProvider, type ProviderAnswer } from "./provider-call.ts";
import type { ProviderFailure } from "./provider-errors.ts";
import { logCall } from "./records.ts";

/** A provider call shorter than this is not worth leasing for. */
export const MIN_CALL_MS = 100;

export interface AttemptServices {
  readonly config: LlmConfig;
  readonly client: OpenAI;
  readonly breakers: ProviderBreakers;
}

export interface AttemptInput {
  readonly request: CompletionRequest;
  readonly policy: TenantPolicy;
  readonly service: string;
  readonly promptTokens: number;
  readonly requestHash: string;
  readonly fallback: boolean;
}

export type AttemptResult =
  | { readonly ok: true; readonly model: string; readonly answer: ProviderAnswer; readonly costUsd: number }
  | { readonly ok: false; readonly model: string; readonly failure: ProviderFailure };

/** Time the provider call may take: the configured timeout, cut to what the deadline leaves. */
export function callBudgetMs(config: LlmConfig, deadline: number): number {
  return Math.min(config.timeoutMs, deadline - Date.now() - config.deadlineReserveMs);
}

/**
 * One model, once: circuit check, lease, call, then settle (with the provider's usage, or zero
 * when the call failed without usage) and tell ai-capacity how the provider did. A refused lease
 * throws its typed error; a provider failure comes back as a value for the caller to degrade on.
 */
export async function attemptModel(services: AttemptServices, context: WorkContext, input: AttemptInput, model: string): Promise<AttemptResult> {
  // Only a model ai-capacity has leased (a priced one) gets a circuit: caller-chosen names create nothing.
  const known = services.breakers.existing(model);
  if (known?.isOpen()) return { ok: false, model, failure: { kind: "circuit_open", retryAfterMs: known.untilHalfOpen() } };
  if (callBudgetMs(services.config, context.deadline) < MIN_CALL_MS) {
    throw new MeshError("TIMEOUT", "too little time left before the deadline for a provider call");
  }
  // The lease lives as long as the longest call it admits (the budget only shrinks from here).
  const callTimeoutMs = Math.ceil(callBudgetMs(services.config, context.deadline));
  const lease = await leaseCapacity(context, { service: input.service, model, estimatedTokens: input.promptTokens + input.request.maxTokens, callTimeoutMs });
  const circuit = known ?? services.breakers.forModel(model);
  // The lease took time too: measure again.
  const budgetMs = callBudgetMs(services.config, context.deadline);
  const timeoutMs = Math.max(1, budgetMs);
  const outcome = await callProvider({
    client: services.client, circuit, request: input.request, model, timeoutMs, timeoutIsCallers: budgetMs < services.config.timeoutMs, signal: context.signal,
  });

  const record = { requestHash: input.requestHash, service: input.service, model, latencyMs: outcome.latencyMs, fallback: input.fallback };
  if (outcome.ok) {
    signalProvider(context, { model, outcome: "ok", latencyMs: outcome.latencyMs });
    const usage = { promptTokens: outcome.answer.promptTokens, completionTokens: outcome.answer.completionTokens };
    const [costUsd] = await Promise.all([
      settleLease(context, lease, { ...usage, requests: 1 }, services.config.publishRetryMs),
      logCall(context, input.policy, { ...record, ...usage, outcome: "ok" }),
    ]);
    return { ok: true, model, answer: outcome.answer, costUsd };
  }
  const signal = signalForFailure(outcome.failure);
  if (signal) signalProvider(context, { model, latencyMs: outcome.latencyMs, ...signal });
  await Promise.all([
    // Nothing was billed: a settlement of zero gives the whole grant and reservation back.
    settleLease(context, lease, { promptTokens: 0, completionTokens: 0, requests: 0 }, services.config.publishRetryMs),
    logCall(context, input.policy, { ...record, promptTokens: 0, completionTokens: 0, outcome: "error", errorCode: outcome.failure.kind }),
  ]);
  return { ok: false, model, failure: outcome.failure };
}
