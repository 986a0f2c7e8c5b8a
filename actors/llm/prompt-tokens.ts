import { getEncoding, type Tiktoken } from "js-tiktoken";
import type { ChatMessage } from "../../protocol/llm.ts";

/**
 * Prompt size as OpenAI counts it for chat models (o200k_base, 3 tokens per message plus 3 to
 * prime the reply). The limit is enforced with this count before anything is leased.
 */
const REPLY_PRIMING_TOKENS = 3;
const MESSAGE_OVERHEAD_TOKENS = 3;

let encoder: Tiktoken | undefined;

/** Loading the ranks takes a good part of a second: done once per process, on first use. */
function tokenizer(): Tiktoken {
  encoder ??= getEncoding("o200k_base");
  return encoder;
}

function countTokens(text: string): number {
  // Special-token strings in user text are counted as plain text, never refused.
  return text.length === 0 ? 0 : tokenizer().encode(text, [], []).length;
}

export function countPromptTokens(messages: readonly ChatMessage[]): number {
  let total = REPLY_PRIMING_TOKENS;
  for (const message of messages) total += MESSAGE_OVERHEAD_TOKENS + countTokens(message.role) + countTokens(message.content);
  return total;
}

export function warmUpTokenizer(): void {
  tokenizer();
}
