import { getEncoding, type Tiktoken } from "js-tiktoken";

/**
 * Token counting for the test provider. The rule follows OpenAI's published recipe for chat
 * models, so the figures are close to what a real endpoint reports:
 *
 *   prompt_tokens = REPLY_PRIMING_TOKENS
 *                 + Σ over messages ( MESSAGE_OVERHEAD_TOKENS + tokens(role) + tokens(text)
 *                                     + (name ? tokens(name) + NAME_OVERHEAD_TOKENS : 0) )
 *
 * where `text` is the message's string content, or its text parts joined by "\n", followed by
 * the name and arguments of each tool call an assistant message carries. Tool declarations
 * are not counted. Everything is encoded with o200k_base, which js-tiktoken ships offline.
 */
export const ENCODING_NAME = "o200k_base";
export const MESSAGE_OVERHEAD_TOKENS = 3;
export const NAME_OVERHEAD_TOKENS = 1;
export const REPLY_PRIMING_TOKENS = 3;

export interface PromptMessage {
  readonly role: string;
  readonly text: string;
  readonly name?: string | undefined;
}

let encoder: Tiktoken | undefined;

/** Loading the ranks takes most of a second, so it happens once, on first use. */
export function tokenizer(): Tiktoken {
  encoder ??= getEncoding(ENCODING_NAME);
  return encoder;
}

/** Special-token text such as "<|endoftext|>" in a prompt is counted as plain text, never rejected. */
export function encodeText(text: string): number[] {
  return text.length === 0 ? [] : tokenizer().encode(text, [], []);
}

export function countTokens(text: string): number {
  return encodeText(text).length;
}

export function countPromptTokens(messages: readonly PromptMessage[]): number {
  let total = REPLY_PRIMING_TOKENS;
  for (const message of messages) {
    total += MESSAGE_OVERHEAD_TOKENS + countTokens(message.role) + countTokens(message.text);
    if (message.name !== undefined) total += countTokens(message.name) + NAME_OVERHEAD_TOKENS;
  }
  return total;
}
