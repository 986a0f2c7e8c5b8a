import type OpenAI from "openai";
import type { CompletionRequest } from "../../protocol/llm.ts";
import type { TenantPolicy } from "../../protocol/tenants.ts";
import type { WorkContext } from "../../runtime/index.ts";
import { admitCall, settleCall, type AccountingServices } from "./call-accounting.ts";
import { signalForFailure } from "./failure-replies.ts";
import { callProvider, type ProviderAnswer } from "./provider-call.ts";
import type { ProviderFailure } from "./provider-errors.ts";

export interface AttemptServices extends AccountingServices {
  readonly client: OpenAI;
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

/**
 * One model, once: admit (circuit, capacity), call, then settle (with the provider's usage, or
 * nothing when the call failed without usage) and tell ai-capacity how the provider did. A
 * refused admission throws its typed error; a provider failure comes back as a value for the
 * caller to degrade on.
 */
export async function attemptModel(services: AttemptServices, context: WorkContext, input: AttemptInput, model: string): Promise<AttemptResult> {
  const admitted = await admitCall(services, context, { service: input.service, model, promptTokens: input.promptTokens, maxTokens: input.request.maxTokens });
  if ("failure" in admitted) return { ok: false, model, failure: admitted.failure };
  const outcome = await callProvider({
    client: services.client, circuit: admitted.circuit, request: input.request, model,
    timeoutMs: admitted.timeoutMs, timeoutIsCallers: admitted.timeoutIsCallers, signal: context.signal,
  });
  const record = { policy: input.policy, requestHash: input.requestHash, service: input.service, fallback: input.fallback };
  if (outcome.ok) {
    services.capacity.signal(context, { model, outcome: "ok", latencyMs: outcome.latencyMs });
    const usage = { promptTokens: outcome.answer.promptTokens, completionTokens: outcome.answer.completionTokens };
    const costUsd = await settleCall(services, context, admitted, { usage, latencyMs: outcome.latencyMs }, record);
    return { ok: true, model, answer: outcome.answer, costUsd };
  }
  const signal = signalForFailure(outcome.failure);
  if (signal) services.capacity.signal(context, { model, latencyMs: outcome.latencyMs, ...signal });
  await settleCall(services, context, admitted, { usage: undefined, latencyMs: outcome.latencyMs, errorCode: outcome.failure.kind }, record);
  return { ok: false, model, failure: outcome.failure };
}
