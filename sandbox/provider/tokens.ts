import { getEncoding, type Tiktoken } from "js-tiktoken";
import o200k from "js-tiktoken/ranks/o200k_base";

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

/**
 * o200k_base cuts text into pieces with its regular expression before it merges bytes, and a
 * piece's tokens depend on that piece alone. The provider keeps the tokens of the short pieces it
 * has seen (words, mostly) and merges only new ones. js-tiktoken's merge was about 40% of the test
 * provider's CPU, which shares the bench's two cores with what it measures: 143 -> 18 µs per
 * completion's texts (sandbox/provider/README.md). `tokens.test.ts` checks the result against
 * js-tiktoken's own `encode` of the whole text.
 */
const PIECES = new RegExp(o200k.pat_str, "gu");
const MAX_KEPT_PIECE_LENGTH = 32;
const MAX_KEPT_PIECES = 50_000;
const keptPieces = new Map<string, readonly number[]>();

/** Special-token text such as "<|endoftext|>" in a prompt is counted as plain text, never rejected. */
export function encodeText(text: string): number[] {
  const tokens: number[] = [];
  for (const [piece] of text.matchAll(PIECES)) {
    let pieceTokens = keptPieces.get(piece);
    if (pieceTokens === undefined) {
      pieceTokens = tokenizer().encode(piece, [], []);
      if (piece.length <= MAX_KEPT_PIECE_LENGTH) {
        if (keptPieces.size >= MAX_KEPT_PIECES) keptPieces.clear();
        keptPieces.set(piece, pieceTokens);
      }
    }
    for (const token of pieceTokens) tokens.push(token);
  }
  return tokens;
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
