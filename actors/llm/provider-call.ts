import OpenAI from "openai";
import type { CompletionRequest, CompletionResult } from "../../protocol/llm.ts";
import type { ModelCircuit } from "./provider-breakers.ts";
import { APIConnectionTimeoutError } from "openai";
import { createProviderFetch } from "./provider-fetch.ts";
import { CallerDeadlineError, classifyProviderError, type ProviderFailure } from "./provider-errors.ts";
import { traceProviderCall } from "../../runtime/index.ts";

export interface ProviderAnswer {
  readonly content: string | null;
  readonly toolCalls: CompletionResult["toolCalls"];
  readonly promptTokens: number;
  readonly completionTokens: number;
}

export type ProviderOutcome =
  | { readonly ok: true; readonly answer: ProviderAnswer; readonly latencyMs: number }
  | { readonly ok: false; readonly failure: ProviderFailure; readonly latencyMs: number };

/** The SDK never retries (the mesh decides retries once) and never writes to stdout; it sends with provider-fetch.ts. */
export function createProviderClient(baseURL: string, apiKey: string): OpenAI {
  return new OpenAI({ baseURL, apiKey: apiKey || "not-set", maxRetries: 0, logLevel: "off", fetch: createProviderFetch() });
}

export function toChatParams(request: CompletionRequest, model: string): OpenAI.Chat.ChatCompletionCreateParamsNonStreaming {
  const tools = request.tools?.map((tool): OpenAI.Chat.ChatCompletionTool => ({
    type: "function",
    function: {
      name: tool.name,
      ...(tool.description === undefined ? {} : { description: tool.description }),
      ...(tool.parameters === undefined ? {} : { parameters: tool.parameters }),
    },
  }));
  return {
    model,
    messages: request.messages.map((message) => ({ role: message.role, content: message.content })),
    max_tokens: request.maxTokens,
    temperature: request.temperature,
    ...(tools && tools.length > 0 ? { tools } : {}),
  };
}

function toAnswer(completion: OpenAI.Chat.ChatCompletion): ProviderAnswer {
  const message = completion.choices[0]?.message;
  const toolCalls = (message?.tool_calls ?? []).flatMap((call) =>
    call.type === "function" ? [{ name: call.function.name, arguments: call.function.arguments }] : []);
  return {
    content: message?.content ?? null,
    toolCalls,
    promptTokens: completion.usage?.prompt_tokens ?? 0,
    completionTokens: completion.usage?.completion_tokens ?? 0,
  };
}

/**
 * One chat completion through the model's circuit, with a timeout and the request's
 * AbortSignal. Never throws: every failure comes back classified.
 */
export interface ProviderCallOptions {
  readonly client: OpenAI;
  readonly circuit: ModelCircuit;
  readonly request: CompletionRequest;
  readonly model: string;
  readonly timeoutMs: number;
  /** True when `timeoutMs` is what the caller's deadline left, shorter than the configured timeout. */
  readonly timeoutIsCallers: boolean;
  readonly signal: AbortSignal;
}

export async function callProvider(options: ProviderCallOptions): Promise<ProviderOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const completion = await options.circuit.policy.execute(async ({ signal }) => {
      try {
        return await traceProviderCall({ model: options.model, provider: new URL(options.client.baseURL).host },
          () => options.client.chat.completions.create(toChatParams(options.request, options.model), { signal, timeout: options.timeoutMs, maxRetries: 0 }));
      } catch (error) {
        // A short caller deadline is not a slow provider: it must not open the circuit for every tenant.
        if (options.timeoutIsCallers && error instanceof APIConnectionTimeoutError) throw new CallerDeadlineError(error);
        throw error;
      }
    }, options.signal);
    return { ok: true, answer: toAnswer(completion), latencyMs: elapsed() };
  } catch (error) {
    return { ok: false, failure: classifyProviderError(error, () => options.circuit.untilHalfOpen()), latencyMs: elapsed() };
  }
}
