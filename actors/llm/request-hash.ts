import { createHash } from "node:crypto";
import type { CompletionRequest } from "../../protocol/llm.ts";

/**
 * SHA-256 of the request's answer-deciding parts (model, messages, maxTokens, temperature,
 * tools) in a fixed shape, so key order and absent defaults do not change it. It keys the
 * completion cache and identifies calls in the call log without keeping their text.
 */
export function requestHash(request: CompletionRequest): string {
  const normalised = [
    request.model,
    request.messages.map((message) => [message.role, message.content]),
    request.maxTokens,
    request.temperature,
    (request.tools ?? []).map((tool) => [tool.name, tool.description ?? null, tool.parameters ?? null]),
  ];
  return createHash("sha256").update(JSON.stringify(normalised)).digest("hex");
}
