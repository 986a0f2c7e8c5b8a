import { createHash, randomUUID } from "node:crypto";
import type { ChatCompletionRequest, ChatMessage } from "./chat-request.ts";
import { countPromptTokens, countTokens, encodeText, tokenizer, type PromptMessage } from "./tokens.ts";

/** Common English words, each one o200k token with its leading space, so replies read as text. */
const WORDS = [
  "the", "quick", "river", "stone", "light", "green", "house", "north", "music", "paper", "water", "garden",
  "silver", "winter", "market", "simple", "bright", "forest", "signal", "travel", "window", "morning", "bridge", "orange",
  "ocean", "planet", "yellow", "summer", "castle", "rabbit", "silent", "pocket",
];
const DEFAULT_MAX_TOKENS = 64;
const MIN_REPLY_TOKENS = 8;
const MAX_REPLY_TOKENS = 48;

export interface ChatCompletion {
  readonly id: string;
  readonly object: "chat.completion";
  readonly created: number;
  readonly model: string;
  readonly choices: [{
    readonly index: 0;
    readonly message: { role: "assistant"; content: string | null; refusal: null; tool_calls?: ToolCall[] };
    readonly logprobs: null;
    readonly finish_reason: "stop" | "length" | "tool_calls";
  }];
  readonly usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

interface ToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

function textOf(message: ChatMessage): string {
  const content = message.content ?? "";
  const text = typeof content === "string"
    ? content
    : content.flatMap((part) => (part.type === "text" && typeof part.text === "string" ? [part.text] : [])).join("\n");
  const calls = (message.tool_calls ?? []).map((call) => `${call.function.name} ${call.function.arguments}`);
  return [text, ...calls].filter((piece) => piece.length > 0).join("\n");
}

function promptMessages(request: ChatCompletionRequest): PromptMessage[] {
  return request.messages.map((message) => ({ role: message.role, text: textOf(message), name: message.name }));
}

/** The digest depends only on roles, texts, names and tool-call ids, not on key order or unknown fields. */
function digestOf(request: ChatCompletionRequest): Buffer {
  const normalised = request.messages.map((message) => [message.role, textOf(message), message.name ?? null, message.tool_call_id ?? null]);
  return createHash("sha256").update(JSON.stringify(normalised)).digest();
}

/** A tool is called when one is forced, or when the last user message says `use tool <name>`. */
function chooseTool(request: ChatCompletionRequest): string | undefined {
  const declared = (request.tools ?? []).map((tool) => tool.function.name);
  const choice = request.tool_choice ?? "auto";
  if (declared.length === 0 || choice === "none") return undefined;
  if (typeof choice === "object") return choice.function.name;
  const lastUser = request.messages.findLast((message) => message.role === "user");
  const asked = [...(lastUser ? textOf(lastUser) : "").matchAll(/use tool ([A-Za-z0-9_-]+)/gi)]
    .map((match) => match[1] ?? "")
    .find((name) => declared.includes(name));
  return asked ?? (choice === "required" ? declared[0] : undefined);
}

/** "reply:<12 hex of the digest>" and words picked by the digest, cut to the token budget. */
function replyText(digest: Buffer, budget: number): { content: string; truncated: boolean } {
  const wanted = MIN_REPLY_TOKENS + (digest.readUInt16BE(30) % (MAX_REPLY_TOKENS - MIN_REPLY_TOKENS + 1));
  const words = Array.from({ length: MAX_REPLY_TOKENS }, (_, i) => WORDS[(digest[i % digest.length]! + i) % WORDS.length]);
  const tokens = encodeText(`reply:${digest.toString("hex", 0, 6)} ${words.join(" ")}`);
  const length = Math.min(budget, wanted);
  return { content: tokenizer().decode(tokens.slice(0, length)), truncated: budget < wanted };
}

export function buildCompletion(request: ChatCompletionRequest): ChatCompletion {
  const digest = digestOf(request);
  const promptTokens = countPromptTokens(promptMessages(request));
  const budget = request.max_completion_tokens ?? request.max_tokens ?? DEFAULT_MAX_TOKENS;
  const tool = chooseTool(request);
  let message: ChatCompletion["choices"][0]["message"];
  let finishReason: ChatCompletion["choices"][0]["finish_reason"];
  let completionTokens: number;
  if (tool !== undefined) {
    const call: ToolCall = {
      id: `call_${createHash("sha256").update(digest).update(tool).digest("hex").slice(0, 24)}`,
      type: "function",
      function: { name: tool, arguments: "{}" },
    };
    message = { role: "assistant", content: null, refusal: null, tool_calls: [call] };
    finishReason = "tool_calls";
    completionTokens = countTokens(call.function.name) + countTokens(call.function.arguments);
  } else {
    const reply = replyText(digest, budget);
    message = { role: "assistant", content: reply.content, refusal: null };
    finishReason = reply.truncated ? "length" : "stop";
    completionTokens = countTokens(reply.content);
  }
  return {
    id: `chatcmpl-${randomUUID().replaceAll("-", "")}`,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: request.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason }],
    usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
  };
}
