import { z } from "zod";
import { LeaseSettlement } from "./ai-capacity.ts";
import { defineContract } from "./contract.ts";
import { ErrorCode } from "./errors.ts";
import { HEADER_LIMITS } from "./headers.ts";

export const ChatMessage = z.strictObject({
  role: z.enum(["system", "user", "assistant"]),
  content: z.string().max(1_000_000),
});
export type ChatMessage = z.infer<typeof ChatMessage>;

export const ToolSpec = z.strictObject({
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/),
  description: z.string().max(1000).optional(),
  /** JSON Schema of the tool's arguments, passed to the provider as is. */
  parameters: z.record(z.string(), z.unknown()).optional(),
});
export type ToolSpec = z.infer<typeof ToolSpec>;

export const CompletionRequest = z.strictObject({
  /** The service asking (attribution); defaults to the Mw-Service header, then "unknown". */
  service: z.string().regex(HEADER_LIMITS.service).optional(),
  model: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/, "letters, digits and . _ : - only, at most 100"),
  messages: z.array(ChatMessage).min(1).max(200),
  /** Output cap; also part of the estimate leased from ai-capacity. */
  maxTokens: z.number().int().positive().max(100_000).default(256),
  /** 0 with no tools makes the request deterministic: it is answered from the cache when it can be. */
  temperature: z.number().min(0).max(2).default(1),
  /** Every name must be in the tenant's allowedTools. */
  tools: z.array(ToolSpec).max(32).optional(),
  /** Stream the answer as chunks before the final reply (wire form below); never answered from the cache. */
  stream: z.boolean().default(false),
});
export type CompletionRequest = z.output<typeof CompletionRequest>;

export const ToolCall = z.object({ name: z.string(), arguments: z.string() });

export const CompletionResult = z.object({
  /** The model that answered (the fallback model when `fallback` is true). */
  model: z.string(),
  content: z.string().nullable(),
  toolCalls: z.array(ToolCall),
  /** Tokens of this answer as the provider reported them (for a cached answer: when it was made). */
  usage: z.object({ promptTokens: z.number().int().nonnegative(), completionTokens: z.number().int().nonnegative() }),
  /** What this call cost the tenant, from ai-capacity's settlement; 0 for a cached answer. */
  costUsd: z.number().nonnegative(),
  cached: z.boolean(),
  /** True when a configured fallback model answered instead of the one asked for. */
  fallback: z.boolean(),
});
export type CompletionResult = z.output<typeof CompletionResult>;

/**
 * One per `llm.complete` request that got past schema validation and the tenant lookup.
 * Tokens and cost are what the provider was actually charged for: 0 for cache hits,
 * rejections and failed calls.
 */
export const UsageEvent = z.object({
  tenant: z.string().regex(HEADER_LIMITS.tenant),
  service: z.string().min(1).max(100),
  /** The model that answered; the requested one when nothing answered. */
  model: z.string().min(1).max(100),
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  costUsd: z.number().nonnegative(),
  /** Time the request spent in the llm actor, ms. */
  latencyMs: z.number().nonnegative(),
  cacheHit: z.boolean(),
  /** ok: answered; rejected: refused by policy or capacity before any provider call; error: the provider failed. */
  outcome: z.enum(["ok", "error", "rejected"]),
  errorCode: ErrorCode.optional(),
  fallback: z.boolean().default(false),
  /** When the request finished (ISO 8601, UTC); decides the usage day and budget period. */
  at: z.iso.datetime(),
});
export type UsageEvent = z.output<typeof UsageEvent>;

/**
 * Streaming (`stream: true`), the wire form. Every message goes to the request's reply subject:
 *
 * 1. zero or more **chunks**: header `Mw-Stream-Seq: <n>` (1, 2, 3, ... in order), body
 *    `CompletionChunk` (`{"content":"..."}`: the next piece of the answer's text). Each chunk
 *    carries a reply subject, the stream's **control subject**;
 * 2. exactly one **final message**: the ordinary reply, `CompletionResult` (with `usage` and
 *    `costUsd`) or an error reply (`Mw-Error`), with header `Mw-Stream-Chunks: <chunks sent>` so
 *    a caller can tell a lost chunk (core NATS is at most once) from a complete stream.
 *
 * **Flow control** (opt in with request header `Mw-Stream-Window: <1..1024>`): at most that many
 * chunks are sent beyond the last one the caller acknowledged. The caller acknowledges by
 * publishing `{"ack": <seq>}` to the control subject (responding to a chunk); the runtime's
 * `streamRequest` acknowledges every half window. A caller that stops acknowledging for
 * `STREAM_STALL_MS` is taken as gone: the provider call is aborted. `{"cancel": true}` on the
 * control subject stops the stream at once (the final message is then `TIMEOUT`). Without the
 * window header chunks are sent as they come and only the deadline ends a stream whose caller
 * went away. Either way the deadline ends the stream, aborting the provider call; the tokens
 * the provider streamed until then are charged (prompt + streamed completion tokens, counted
 * with the model's tokenizer when the provider's final usage never came).
 */
export const STREAM_HEADERS = {
  seq: "Mw-Stream-Seq",
  window: "Mw-Stream-Window",
  chunks: "Mw-Stream-Chunks",
} as const;
export const MAX_STREAM_WINDOW = 1024;
/** A windowed stream whose caller acknowledged nothing for this long is stopped. */
export const STREAM_STALL_MS = 10_000;

export const CompletionChunk = z.object({ content: z.string() });
export type CompletionChunk = z.output<typeof CompletionChunk>;

export const StreamControl = z.union([
  z.strictObject({ ack: z.number().int().nonnegative() }),
  z.strictObject({ cancel: z.literal(true) }),
]);
export type StreamControl = z.output<typeof StreamControl>;

export const llmContract = defineContract({
  actor: "llm",
  requests: {
    complete: { subject: "llm.complete", input: CompletionRequest, output: CompletionResult, tenantFacing: true, streaming: true },
  },
  events: {
    usage: { subject: "events.llm.usage", schema: UsageEvent },
    /** One per lease the llm actor took: its provider usage (zero when the call failed), consumed by ai-capacity. */
    settlement: { subject: "events.llm.settlement", schema: LeaseSettlement },
  },
});
