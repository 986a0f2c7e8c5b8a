import { z } from "zod";

const ModelName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/);

/** Everything the llm actor is configured with; parsed once, frozen, passed down. */
export const LlmConfigSchema = z.object({
  /** Any OpenAI-compatible endpoint, up to and including /v1. */
  baseURL: z.url().default("https://api.openai.com/v1"),
  apiKey: z.string().default(""),
  /** Longest provider call; the request's own deadline shortens it further. */
  timeoutMs: z.coerce.number().int().positive().max(600_000).default(30_000),
  /** Kept free of the request deadline for settling, publishing and replying. */
  deadlineReserveMs: z.coerce.number().int().nonnegative().max(10_000).default(250),
  /** Model -> the model tried once when it is degraded (429, 5xx, timeout, open circuit). */
  fallbacks: z.record(ModelName, ModelName).default({})
    .refine((map) => Object.entries(map).every(([from, to]) => from !== to), { message: "a model cannot fall back to itself" }),
  /** How long a deterministic answer is served from the cache (capped by the tenant's retention). */
  cacheTtlMs: z.coerce.number().int().positive().max(30 * 86_400_000).default(3_600_000),
  /** Consecutive provider failures (5xx, timeouts, connection errors) that open a model's circuit. */
  breakerFailures: z.coerce.number().int().positive().max(1000).default(5),
  /** How long an open circuit waits before letting one test call through. */
  breakerHalfOpenMs: z.coerce.number().int().positive().max(600_000).default(10_000),
  /** How long a tenant policy read from the tenants actor is reused. */
  policyCacheMs: z.coerce.number().int().nonnegative().max(600_000).default(5_000),
  /** How long a request retries a settlement or usage event JetStream refuses before storing it in the outbox. */
  publishRetryMs: z.coerce.number().int().nonnegative().max(60_000).default(1_000),
  /** How often every replica republishes what its outbox holds. */
  outboxDrainMs: z.coerce.number().int().min(10).max(600_000).default(1_000),
  /**
   * Capacity shares: the largest share of a tenant's capacity (tokens) a replica asks for per
   * service and model; 0 turns shares off (every call leases alone).
   */
  shareMaxTokens: z.coerce.number().int().nonnegative().max(10_000_000).default(200_000),
  /** The most calls one share covers. */
  shareMaxRequests: z.coerce.number().int().positive().max(1000).default(200),
  /** How long calls are admitted from one share before the next (a share lives this + LLM_TIMEOUT_MS + ai-capacity's grace). */
  shareUsableMs: z.coerce.number().int().min(100).max(600_000).default(5_000),
  /** A share with no call for this long is settled, so idle capacity goes back to the tenant. */
  shareIdleMs: z.coerce.number().int().min(10).max(600_000).default(1_000),
  /** How long ai-capacity's OVER_BUDGET / RATE_LIMITED for a call is repeated to calls at least as large without asking it (README, "Refused calls"); 0 asks every time. */
  refusalHoldMs: z.coerce.number().int().nonnegative().max(60_000).default(500),
  /** Usage events in flight after their answers, and call records not yet written, a replica holds before a reply waits for its own. */
  maxBackgroundWrites: z.coerce.number().int().positive().max(100_000).default(512),
  /** How long a call record waits for others before the replica writes them in one batch. */
  callLogFlushMs: z.coerce.number().int().min(1).max(60_000).default(500),
});
export type LlmConfig = Readonly<z.output<typeof LlmConfigSchema>>;
export type LlmConfigInput = z.input<typeof LlmConfigSchema>;

export function parseLlmConfig(input: LlmConfigInput = {}): LlmConfig {
  const parsed = LlmConfigSchema.safeParse(input);
  if (!parsed.success) throw new Error(`invalid llm configuration: ${z.prettifyError(parsed.error)}`);
  return Object.freeze({ ...parsed.data, fallbacks: Object.freeze({ ...parsed.data.fallbacks }) });
}

/** OPENAI_BASE_URL, OPENAI_API_KEY, LLM_TIMEOUT_MS, LLM_FALLBACKS (JSON object), LLM_CACHE_TTL_MS, LLM_BREAKER_*, LLM_PUBLISH_RETRY_MS, LLM_OUTBOX_DRAIN_MS, LLM_SHARE_*, LLM_MAX_BACKGROUND_WRITES, LLM_CALL_LOG_FLUSH_MS. */
export function llmConfigFromEnv(env: NodeJS.ProcessEnv = process.env): LlmConfig {
  let fallbacks: unknown;
  try {
    fallbacks = env.LLM_FALLBACKS ? JSON.parse(env.LLM_FALLBACKS) : undefined;
  } catch {
    throw new Error("invalid llm configuration: LLM_FALLBACKS is not JSON");
  }
  return parseLlmConfig({
    baseURL: env.OPENAI_BASE_URL || undefined,
    apiKey: env.OPENAI_API_KEY || undefined,
    timeoutMs: env.LLM_TIMEOUT_MS || undefined,
    deadlineReserveMs: env.LLM_DEADLINE_RESERVE_MS || undefined,
    fallbacks: fallbacks as Record<string, string> | undefined,
    cacheTtlMs: env.LLM_CACHE_TTL_MS || undefined,
    breakerFailures: env.LLM_BREAKER_FAILURES || undefined,
    breakerHalfOpenMs: env.LLM_BREAKER_HALF_OPEN_MS || undefined,
    policyCacheMs: env.LLM_POLICY_CACHE_MS || undefined,
    publishRetryMs: env.LLM_PUBLISH_RETRY_MS || undefined,
    outboxDrainMs: env.LLM_OUTBOX_DRAIN_MS || undefined,
    shareMaxTokens: env.LLM_SHARE_MAX_TOKENS || undefined,
    shareMaxRequests: env.LLM_SHARE_MAX_REQUESTS || undefined,
    shareUsableMs: env.LLM_SHARE_USABLE_MS || undefined,
    shareIdleMs: env.LLM_SHARE_IDLE_MS || undefined,
    refusalHoldMs: env.LLM_REFUSAL_HOLD_MS || undefined,
    maxBackgroundWrites: env.LLM_MAX_BACKGROUND_WRITES || undefined,
    callLogFlushMs: env.LLM_CALL_LOG_FLUSH_MS || undefined,
  });
}
