import { countTokens as countWhole, setMergeCacheSize } from "gpt-tokenizer/encoding/o200k_base";
import type { ChatMessage, ToolSpec } from "../../protocol/llm.ts";

/**
 * Prompt size as OpenAI counts it for chat models (o200k_base, 3 tokens per message plus 3 to
 * prime the reply), plus the tool declarations, which the provider also puts in the prompt.
 * The tenant's limit is enforced with this count, and the lease estimate is built from it,
 * before anything is leased.
 */
const REPLY_PRIMING_TOKENS = 3;
const MESSAGE_OVERHEAD_TOKENS = 3;
/** Providers wrap tool declarations in a preamble and per-tool framing; these bound ours from above. */
const TOOLS_OVERHEAD_TOKENS = 12;
const TOOL_OVERHEAD_TOKENS = 8;
/**
 * BPE merges each pre-tokenized piece in time quadratic in its length: with js-tiktoken one
 * 8,000-character word took 4.3 s here, and every tokenizer we measured (gpt-tokenizer, the WASM
 * tiktoken) is quadratic too; gpt-tokenizer also overflows the stack on a 256 KiB piece. Pieces
 * are only long in runs of letters or of punctuation, so such a run longer than LONG_RUN is
 * counted in slices of that length: linear work, and a count that can only grow by about one
 * token per slice (the cut may split a token). Everything else is counted whole, exactly.
 */
const LONG_RUN = 128;
/**
 * Pieces whose merges gpt-tokenizer remembers (least recently used out first). Its default,
 * 100,000, held 24-27 MB of heap once callers had sent that many distinct pieces (the fuzz
 * test's memory check found it: the replica grew by 1.1 KB per generated request); 20,000 hold
 * about 6 MB, and counted README text as fast as the default in our measurement.
 */
export const TOKENIZER_CACHE_PIECES = 20_000;
const LONG_RUNS = new RegExp(`[\\p{L}\\p{M}]{${LONG_RUN + 1},}|[^\\s\\p{L}\\p{N}]{${LONG_RUN + 1},}`, "gu");

/** Tokens of `text` (special-token strings count as plain text, never refused), in time linear in its length. */
export function countTokens(text: string): number {
  let total = 0;
  let from = 0;
  for (const match of text.matchAll(LONG_RUNS)) {
    total += countPlain(text.slice(from, match.index));
    for (const slice of slices(match[0], LONG_RUN)) total += countPlain(slice);
    from = match.index + match[0].length;
  }
  return total + countPlain(text.slice(from));
}

function countPlain(text: string): number {
  return text.length === 0 ? 0 : countWhole(text, { disallowedSpecial: new Set() });
}

/** `run` cut every `length` code points (never inside a surrogate pair). */
export function* slices(run: string, length: number): Generator<string> {
  const points = Array.from(run);
  for (let i = 0; i < points.length; i += length) yield points.slice(i, i + length).join("");
}

export function countPromptTokens(messages: readonly ChatMessage[], tools: readonly ToolSpec[] = []): number {
  let total = REPLY_PRIMING_TOKENS;
  for (const message of messages) total += MESSAGE_OVERHEAD_TOKENS + countTokens(message.role) + countTokens(message.content);
  if (tools.length > 0) {
    total += TOOLS_OVERHEAD_TOKENS;
    for (const tool of tools) total += TOOL_OVERHEAD_TOKENS + countTokens(JSON.stringify(tool));
  }
  return total;
}

/**
 * Loading the ranks takes a good part of a second: done once per process, before the first
 * request, with the merge cache bounded first.
 */
export function warmUpTokenizer(): void {
  setMergeCacheSize(TOKENIZER_CACHE_PIECES);
  countPlain("warm up");
}
