import type { ServerResponse } from "node:http";
import { setTimeout as delay } from "node:timers/promises";
import type { ChatCompletion } from "./completion.ts";
import { encodeText, tokenizer } from "./tokens.ts";

export interface StreamOptions {
  readonly includeUsage: boolean;
  /** Wait before each content chunk after the first. */
  readonly chunkDelayMs: number;
}

type Choice = ChatCompletion["choices"][0];

/** The `chat.completion.chunk`s of a completion: role, one content token per chunk (or the tool calls), finish, usage. */
export function* completionChunks(completion: ChatCompletion, includeUsage: boolean): Generator<{ chunk: object; content: boolean }> {
  const base = { id: completion.id, object: "chat.completion.chunk", created: completion.created, model: completion.model, system_fingerprint: null };
  const choice: Choice = completion.choices[0];
  const usage = includeUsage ? { usage: null } : {};
  const delta = (fields: object, finish: Choice["finish_reason"] | null = null) =>
    ({ ...base, choices: [{ index: 0, delta: fields, logprobs: null, finish_reason: finish }], ...usage });
  yield { chunk: delta({ role: "assistant", content: "", refusal: null }), content: false };
  const calls = choice.message.tool_calls ?? [];
  if (calls.length > 0) {
    yield { chunk: delta({ tool_calls: calls.map((call, index) => ({ index, ...call })) }), content: true };
  } else {
    for (const token of encodeText(choice.message.content ?? "")) yield { chunk: delta({ content: tokenizer().decode([token]) }), content: true };
  }
  yield { chunk: delta({}, choice.finish_reason), content: false };
  if (includeUsage) yield { chunk: { ...base, choices: [], usage: completion.usage }, content: false };
}

/**
 * Writes the completion as server-sent events the way OpenAI does (`data: <chunk>` lines, then
 * `data: [DONE]`), honouring the socket's backpressure. Resolves true when every chunk went out,
 * false when the client went away or `signal` aborted first.
 */
export async function writeCompletionStream(response: ServerResponse, completion: ChatCompletion, options: StreamOptions, signal: AbortSignal): Promise<boolean> {
  response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
  let first = true;
  try {
    for (const { chunk, content } of completionChunks(completion, options.includeUsage)) {
      if (content && !first && options.chunkDelayMs > 0) await delay(options.chunkDelayMs, undefined, { signal });
      if (content) first = false;
      if (signal.aborted || response.destroyed) return false;
      if (!response.write(`data: ${JSON.stringify(chunk)}\n\n`)) await drained(response, signal);
    }
    response.end("data: [DONE]\n\n");
    return true;
  } catch (error) {
    if (error instanceof Error && error.name === "AbortError") return false;
    throw error;
  }
}

function drained(response: ServerResponse, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      response.off("drain", done);
      response.off("close", done);
      signal.removeEventListener("abort", aborted);
      resolve();
    };
    const aborted = () => {
      done();
      reject(Object.assign(new Error("aborted"), { name: "AbortError" }));
    };
    response.once("drain", done);
    response.once("close", done);
    signal.addEventListener("abort", aborted, { once: true });
  });
}
