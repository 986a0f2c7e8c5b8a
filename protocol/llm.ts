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

export const llmContract = defineContract({
  actor: "llm",
  requests: {
    complete: { subject: "llm.complete", input: CompletionRequest, output: CompletionResult, tenantFacing: true },
  },
  events: {
    usage: { subject: "events.llm.usage", schema: UsageEvent },
    /** One per lease the llm actor took: its provider usage (zero when the call failed), consumed by ai-capacity. */
    settlement: { subject: "events.llm.settlement", schema: LeaseSettlement },
  },
});
