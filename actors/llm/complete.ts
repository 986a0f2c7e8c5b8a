import type { CompletionRequest, CompletionResult } from "../../protocol/llm.ts";
import { toMeshError, type WorkContext, type TenantPolicyCache } from "../../runtime/index.ts";
import type { BackgroundWrites } from "./background-writes.ts";
import { readCachedCompletion, writeCachedCompletion } from "./completion-cache.ts";
import { replyForFailure } from "./failure-replies.ts";
import { callBudgetMs, MIN_CALL_MS } from "./call-accounting.ts";
import { attemptModel, type AttemptResult, type AttemptServices } from "./model-attempt.ts";
import { enforcePolicy, isDeterministic } from "./policy-checks.ts";
import { countPromptTokens } from "./prompt-tokens.ts";
import { isDegradation } from "./provider-errors.ts";
import { storeEvaluationSample } from "./records.ts";
import { requestHash } from "./request-hash.ts";
import { streamComplete } from "./stream-complete.ts";
import { publishUsage } from "./usage-event.ts";

export interface LlmServices extends AttemptServices {
  readonly policies: TenantPolicyCache;
  /** Usage events of billed calls, published after their answers. */
  readonly background: BackgroundWrites;
  /** Set once the replica is connected (onStart). */
  capacity: AttemptServices["capacity"];
  callLog: AttemptServices["callLog"];
}

const DAY_MS = 86_400_000;

/**
 * llm.complete: policy (models, prompt size, tools) -> cache for deterministic requests ->
 * lease -> call (circuit, timeout, deadline) -> degrade to the configured fallback once ->
 * settle or release -> one usage event. Every outcome after the tenant lookup is published.
 */
export function createCompleteHandler(services: LlmServices) {
  return async function complete(request: CompletionRequest, context: WorkContext): Promise<CompletionResult> {
    if (request.stream) return streamComplete(services, request, context);
    const started = performance.now();
    const elapsed = () => performance.now() - started;
    const service = request.service ?? (context.callerService || "unknown");
    const policy = await services.policies.get(context);
    const noUsage = { service, promptTokens: 0, completionTokens: 0, costUsd: 0, cacheHit: false } as const;
    const promptTokens = countPromptTokens(request.messages, request.tools);
    const hash = requestHash(request);
    const deterministic = isDeterministic(request);

    let result: AttemptResult;
    try {
      enforcePolicy(policy, request, promptTokens);
      if (deterministic) {
        const hit = await readCachedCompletion(context, hash);
        if (hit) {
          await publishUsage(context, { ...noUsage, model: hit.model, latencyMs: elapsed(), cacheHit: true, outcome: "ok" }, services.config.publishRetryMs);
          return { model: hit.model, content: hit.content, toolCalls: hit.toolCalls, usage: hit.usage, costUsd: 0, cached: true, fallback: false };
        }
      }
      const input = { request, policy, service, promptTokens, requestHash: hash, fallback: false };
      result = await attemptModel(services, context, input, request.model);
      const fallbackModel = services.config.fallbacks[request.model];
      if (!result.ok && fallbackModel && isDegradation(result.failure) && mayUse(policy.allowedModels, fallbackModel)
        && callBudgetMs(services.config, context.deadline) >= MIN_CALL_MS) {
        context.log.warn({ model: request.model, fallbackModel, failure: result.failure.kind }, "model degraded; trying its fallback");
        const second = await attemptModel(services, context, { ...input, fallback: true }, fallbackModel);
        // A failed fallback answers for the model that was asked for.
        if (second.ok) result = second;
      }
    } catch (thrown) {
      const error = toMeshError(thrown);
      await publishUsage(context, { ...noUsage, model: request.model, latencyMs: elapsed(), outcome: "rejected", errorCode: error.code }, services.config.publishRetryMs);
      throw thrown;
    }

    const fallback = result.model !== request.model;
    if (!result.ok) {
      const error = replyForFailure(result.failure, request.model);
      await publishUsage(context, { ...noUsage, model: request.model, latencyMs: elapsed(), outcome: "error", errorCode: error.code, fallback }, services.config.publishRetryMs);
      throw error;
    }
    const { answer } = result;
    const usage = { promptTokens: answer.promptTokens, completionTokens: answer.completionTokens };
    const output = { content: answer.content, toolCalls: answer.toolCalls };
    const cacheTtlMs = Math.min(services.config.cacheTtlMs, policy.retention.retentionDays * DAY_MS);
    // The provider billed this call: its usage event (durable: retried, then the outbox) is
    // published after the answer, bounded in number (background-writes.ts).
    const billedUsage = publishUsage(context, { ...noUsage, ...usage, model: result.model, costUsd: result.costUsd, latencyMs: elapsed(), outcome: "ok", fallback }, services.config.publishRetryMs);
    await Promise.all([
      services.background.run(billedUsage.catch(() => {})),
      // Only the model asked for fills the cache (a fallback's answer is not the one requested);
      // awaited, so the next identical request finds it.
      deterministic && !fallback ? writeCachedCompletion(context, { key: hash, model: result.model, ...output, usage }, cacheTtlMs) : undefined,
      // Awaited: only tenants that keep samples pay for it, and a caller may read it at once.
      storeEvaluationSample(context, policy, { requestHash: hash, model: result.model, messages: request.messages, output }),
    ]);
    return { model: result.model, ...output, usage, costUsd: result.costUsd, cached: false, fallback };
  };
}

function mayUse(allowedModels: readonly string[], model: string): boolean {
  return allowedModels.length === 0 || allowedModels.includes(model);
}
