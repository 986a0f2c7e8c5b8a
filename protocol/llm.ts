import { z } from "zod";
import { defineContract } from "./contract.ts";

export const ChatMessage = z.strictObject({
  role: z.enum(["system", "user", "assistant"]),
  content: z.string().max(1_000_000),
});

export const ToolSpec = z.strictObject({
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/),
  description: z.string().max(1000).optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
});

export const CompletionRequest = z.strictObject({
  /** The service asking (attribution); defaults to the Mw-Service header. */
  service: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/).optional(),
  model: z.string().min(1).max(100),
  messages: z.array(ChatMessage).min(1).max(200),
  maxTokens: z.number().int().positive().max(100_000).default(256),
  temperature: z.number().min(0).max(2).default(1),
  tools: z.array(ToolSpec).max(32).optional(),
});

export const CompletionResult = z.object({
  model: z.string(),
  content: z.string().nullable(),
  toolCalls: z.array(z.object({ name: z.string(), arguments: z.string() })),
  usage: z.object({ promptTokens: z.number().int(), completionTokens: z.number().int() }),
  costUsd: z.number().nonnegative(),
  cached: z.boolean(),
  /** True when a configured fallback model answered instead of the one asked for. */
  fallback: z.boolean(),
});

export const UsageEvent = z.object({
  tenant: z.string(),
  service: z.string(),
  model: z.string(),
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  costUsd: z.number().nonnegative(),
  latencyMs: z.number().nonnegative(),
  cacheHit: z.boolean(),
  outcome: z.enum(["ok", "error", "rejected"]),
  errorCode: z.string().optional(),
  at: z.string(),
});

export const llmContract = defineContract({
  actor: "llm",
  requests: {
    complete: { subject: "llm.complete", input: CompletionRequest, output: CompletionResult },
  },
  events: {
    usage: { subject: "events.llm.usage", schema: UsageEvent },
  },
});
