import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { CompletionResult } from "../../protocol/llm.ts";

const TextPart = z.looseObject({ type: z.literal("text"), text: z.string() });

/** The part of OpenAI's Chat Completions request the mesh serves; other fields are accepted and ignored. */
export const OpenAiChatRequest = z.looseObject({
  model: z.string(),
  messages: z.array(z.looseObject({
    role: z.enum(["system", "developer", "user", "assistant"]),
    content: z.union([z.string(), z.array(TextPart)]).nullable().optional(),
  })).min(1),
  max_tokens: z.number().int().positive().nullable().optional(),
  max_completion_tokens: z.number().int().positive().nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  tools: z.array(z.looseObject({
    type: z.literal("function"),
    function: z.looseObject({ name: z.string(), description: z.string().optional(), parameters: z.record(z.string(), z.unknown()).optional() }),
  })).optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
  user: z.string().optional(),
});
export type OpenAiChatRequest = z.output<typeof OpenAiChatRequest>;

/** OpenAI's request -> the mesh's `llm.complete` input (validated by the caller with the contract's schema). */
export function toCompletionInput(request: OpenAiChatRequest, service: string): Record<string, unknown> {
  const maxTokens = request.max_completion_tokens ?? request.max_tokens ?? undefined;
  return {
    service,
    model: request.model,
    messages: request.messages.map((message) => ({
      role: message.role === "developer" ? "system" : message.role,
      content: typeof message.content === "string" ? message.content : (message.content ?? []).map((part) => part.text).join("\n"),
    })),
    ...(maxTokens === undefined ? {} : { maxTokens }),
    ...(request.temperature === null || request.temperature === undefined ? {} : { temperature: request.temperature }),
    ...(request.tools && request.tools.length > 0 ? {
      tools: request.tools.map((tool) => ({
        name: tool.function.name,
        ...(tool.function.description === undefined ? {} : { description: tool.function.description }),
        ...(tool.function.parameters === undefined ? {} : { parameters: tool.function.parameters }),
      })),
    } : {}),
    stream: request.stream === true,
  };
}

function toolCallsOf(result: Pick<CompletionResult, "toolCalls">) {
  return result.toolCalls.map((call, index) => ({ id: `call_${index}_${randomUUID().replaceAll("-", "").slice(0, 16)}`, type: "function" as const, function: call }));
}

function usageOf(result: Pick<CompletionResult, "usage">) {
  const { promptTokens, completionTokens } = result.usage;
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
}

export function newCompletionId(): string {
  return `chatcmpl-${randomUUID().replaceAll("-", "")}`;
}

/** A `chat.completion` from the mesh's result; the mesh's cost and cache flag ride along as `meshwork`. */
export function toChatCompletion(result: CompletionResult, id = newCompletionId()) {
  const toolCalls = toolCallsOf(result);
  return {
    id,
    object: "chat.completion" as const,
    created: Math.floor(Date.now() / 1000),
    model: result.model,
    choices: [{
      index: 0,
      message: { role: "assistant" as const, content: result.content, refusal: null, ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}) },
      logprobs: null,
      finish_reason: toolCalls.length > 0 ? "tool_calls" : "stop",
    }],
    usage: usageOf(result),
    meshwork: { costUsd: result.costUsd, cached: result.cached, fallback: result.fallback },
  };
}

/** Builds the `chat.completion.chunk`s of one stream. */
export function chunkWriter(id: string, model: string, includeUsage: boolean) {
  const created = Math.floor(Date.now() / 1000);
  const base = { id, object: "chat.completion.chunk" as const, created, model, system_fingerprint: null };
  const usageField = includeUsage ? { usage: null } : {};
  const chunk = (delta: object, finish: string | null = null) => ({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...usageField });
  return {
    first: () => chunk({ role: "assistant", content: "", refusal: null }),
    content: (text: string) => chunk({ content: text }),
    finish: (result: CompletionResult) => {
      const toolCalls = toolCallsOf(result);
      return toolCalls.length > 0
        ? [chunk({ tool_calls: toolCalls.map((call, index) => ({ index, ...call })) }), chunk({}, "tool_calls")]
        : [chunk({}, "stop")];
    },
    usage: (result: CompletionResult) => ({ ...base, choices: [], usage: usageOf(result) }),
  };
}
