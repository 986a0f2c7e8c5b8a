import type { CompletionRequest, CompletionResult } from "../../protocol/llm.ts";
import { MeshError, toMeshError, type WorkContext } from "../../runtime/index.ts";
import { admitCall, settleCall, type AdmittedCall } from "./call-accounting.ts";
import type { LlmServices } from "./complete.ts";
import { replyForFailure, signalForFailure } from "./failure-replies.ts";
import { enforcePolicy } from "./policy-checks.ts";
import { countPromptTokens, countTokens } from "./prompt-tokens.ts";
import { requestHash } from "./request-hash.ts";
import type { StreamedAnswer } from "./stream-provider-call.ts";
import { streamProvider } from "./stream-provider-call.ts";
import { publishUsage } from "./usage-event.ts";

/**
 * What a streamed call is charged: the provider's own usage from its final chunk when it came;
 * otherwise (the caller stopped the stream, the deadline or the provider cut it) our prompt count
 * and the tokens of the text and tool calls streamed so far, counted with the model's tokenizer.
 * Nothing (undefined) when the provider never started answering.
 */
export function streamedUsage(answer: StreamedAnswer, promptTokens: number): { promptTokens: number; completionTokens: number } | undefined {
  if (answer.usage) return answer.usage;
  if (!answer.started) return undefined;
  const toolTokens = answer.toolCalls.reduce((sum, call) => sum + countTokens(call.name) + countTokens(call.arguments), 0);
  return { promptTokens, completionTokens: countTokens(answer.content) + toolTokens };
}

/**
 * llm.complete with `stream: true`: the same admission as a whole completion (policy, prompt
 * size, tools, then `admitCall`: circuit, time left, capacity for prompt + maxTokens), then the
 * provider's stream relayed chunk by chunk through `context.stream`, then `settleCall` once and
 * one usage event with what the provider billed. No cache and no fallback model: a stream's
 * first chunk commits to its model.
 */
export async function streamComplete(services: LlmServices, request: CompletionRequest, context: WorkContext): Promise<CompletionResult> {
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  const service = request.service ?? (context.callerService || "unknown");
  const { model } = request;
  const publishRetryMs = services.config.publishRetryMs;
  const policy = await services.policies.get(context);
  const promptTokens = countPromptTokens(request.messages, request.tools);
  const none = { service, model, promptTokens: 0, completionTokens: 0, costUsd: 0, cacheHit: false } as const;

  const stream = context.stream;
  let admitted: AdmittedCall;
  try {
    if (!stream) throw new MeshError("BAD_REQUEST", "stream: true needs a reply subject to stream to");
    enforcePolicy(policy, request, promptTokens);
    const admission = await admitCall(services, context, { service, model, promptTokens, maxTokens: request.maxTokens });
    if ("failure" in admission) throw replyForFailure(admission.failure, model);
    admitted = admission;
  } catch (thrown) {
    await publishUsage(context, { ...none, latencyMs: elapsed(), outcome: "rejected", errorCode: toMeshError(thrown).code }, publishRetryMs);
    throw thrown;
  }

  const outcome = await streamProvider({
    client: services.client,
    circuit: admitted.circuit,
    request,
    model,
    timeoutMs: admitted.timeoutMs,
    timeoutIsCallers: admitted.timeoutIsCallers,
    signal: AbortSignal.any([context.signal, stream.signal]),
    onContent: (content) => stream.send({ content }),
  });
  const usage = streamedUsage(outcome.answer, promptTokens);
  const signal = outcome.ok ? { outcome: "ok" as const } : signalForFailure(outcome.failure);
  if (signal) services.capacity.signal(context, { model, latencyMs: outcome.latencyMs, ...signal });
  const error = outcome.ok ? undefined : stream.signal.aborted ? toMeshError(stream.signal.reason) : replyForFailure(outcome.failure, model);
  // Settled exactly once, whatever ended the stream: a stopped stream pays for what it got.
  const costUsd = await settleCall(services, context, admitted, { usage, latencyMs: outcome.latencyMs, ...(error ? { errorCode: error.code } : {}) }, {
    policy, requestHash: requestHash(request), service, fallback: false,
  });
  const tokens = usage ?? { promptTokens: 0, completionTokens: 0 };
  await publishUsage(context, {
    ...none, ...tokens, costUsd, latencyMs: elapsed(), outcome: error ? "error" : "ok", ...(error ? { errorCode: error.code } : {}),
  }, publishRetryMs);
  if (error) throw error;
  return {
    model, content: outcome.answer.content === "" && outcome.answer.toolCalls.length > 0 ? null : outcome.answer.content, toolCalls: outcome.answer.toolCalls, usage: tokens, costUsd, cached: false, fallback: false,
  };
}
