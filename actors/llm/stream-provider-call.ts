import { APIConnectionTimeoutError } from "openai";
import type { CompletionResult } from "../../protocol/llm.ts";
import { toChatParams, type ProviderCallOptions } from "./provider-call.ts";
import { CallerDeadlineError, classifyProviderError, type ProviderFailure } from "./provider-errors.ts";

/** What a streamed provider call produced, however it ended. */
export interface StreamedAnswer {
  readonly content: string;
  readonly toolCalls: CompletionResult["toolCalls"];
  /** The provider's usage from its final chunk; undefined when the stream ended before it. */
  readonly usage: { readonly promptTokens: number; readonly completionTokens: number } | undefined;
  /** True once the provider sent any chunk (it has started billing). */
  readonly started: boolean;
}

export type StreamOutcome =
  | { readonly ok: true; readonly answer: StreamedAnswer; readonly latencyMs: number; readonly firstChunkMs: number }
  | { readonly ok: false; readonly answer: StreamedAnswer; readonly failure: ProviderFailure; readonly latencyMs: number };

/**
 * One streamed chat completion through the model's circuit (the SDK's streaming, with
 * `stream_options.include_usage` so the last chunk carries usage), handing each content delta to
 * `onContent` and waiting for it (the caller's flow control reaches the provider's socket).
 * Never throws: a failure comes back classified, with what was streamed until then.
 */
export async function streamProvider(options: ProviderCallOptions & {
  readonly onContent: (text: string) => Promise<void>;
}): Promise<StreamOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  let content = "";
  let usage: StreamedAnswer["usage"];
  let firstChunkMs = 0;
  let finished = false;
  const calls: { name: string; arguments: string }[] = [];
  const answer = (): StreamedAnswer => ({ content, toolCalls: calls.filter((call) => call.name), usage, started: firstChunkMs > 0 });
  try {
    await options.circuit.policy.execute(async ({ signal }) => {
      try {
        const stream = await options.client.chat.completions.create(
          { ...toChatParams(options.request, options.model), stream: true, stream_options: { include_usage: true } },
          { signal, timeout: options.timeoutMs, maxRetries: 0 },
        );
        for await (const chunk of stream) {
          if (firstChunkMs === 0) firstChunkMs = Math.max(1, elapsed());
          if (chunk.usage) usage = { promptTokens: chunk.usage.prompt_tokens, completionTokens: chunk.usage.completion_tokens };
          const delta = chunk.choices[0]?.delta;
          for (const call of delta?.tool_calls ?? []) {
            const entry = calls[call.index] ??= { name: "", arguments: "" };
            entry.name += call.function?.name ?? "";
            entry.arguments += call.function?.arguments ?? "";
          }
          if (chunk.choices[0]?.finish_reason) finished = true;
          if (delta?.content) {
            content += delta.content;
            await options.onContent(delta.content);
          }
        }
        // The SDK ends an aborted stream's iteration quietly (its own timeout too): an unfinished stream is a failure.
        if (signal.aborted || options.signal.aborted) throw new CallerDeadlineError(signal.reason);
        if (!finished) throw new APIConnectionTimeoutError({ message: "the provider's stream ended without finishing" });
      } catch (error) {
        // A caller that went away or ran out of deadline says nothing about the provider's health.
        if (options.signal.aborted || (options.timeoutIsCallers && error instanceof APIConnectionTimeoutError)) throw new CallerDeadlineError(error);
        throw error;
      }
    }, options.signal);
    return { ok: true, answer: answer(), latencyMs: elapsed(), firstChunkMs };
  } catch (error) {
    // Our own abort (the caller went away, its deadline) is not the provider's failure.
    const failure = options.signal.aborted ? { kind: "aborted" as const } : classifyProviderError(error, () => options.circuit.untilHalfOpen());
    return { ok: false, answer: answer(), failure, latencyMs: elapsed() };
  }
}
