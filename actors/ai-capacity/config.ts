import { z } from "zod";
import { ModelPrice } from "../../protocol/ai-capacity.ts";
import { DEFAULT_PRICES } from "./prices.ts";

const ModelName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/);
const Share = z.coerce.number().positive().max(1);

/** Everything the ai-capacity actor is configured with; parsed once, frozen, passed down. */
export const AiCapacityConfigSchema = z.object({
  /** Dollars per million input and output tokens, per model. Replaces the default table when given. */
  prices: z.record(ModelName, ModelPrice).default(DEFAULT_PRICES),
  /**
   * Settle grace: how long a lease stays open after its call's time budget (`callTimeoutMs`)
   * for the settlement to arrive, before it expires and is charged its reservation.
   */
  leaseTtlMs: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  /** The longest call time budget a lease may ask for (`callTimeoutMs`); more is refused. */
  maxCallMs: z.coerce.number().int().positive().max(3_600_000).default(600_000),
  /** How often every replica looks for expired leases. */
  sweepIntervalMs: z.coerce.number().int().min(10).max(60_000).default(1_000),
  /** How long a finished lease is remembered: a repeated settle is answered, an expired lease can still be settled. */
  finishedRetentionMs: z.coerce.number().int().min(1_000).max(86_400_000).default(600_000),
  /** At most this many settled or released leases per tenant are remembered, and as many expired ones. */
  finishedCount: z.coerce.number().int().min(1).max(10_000).default(200),
  /** Open leases one tenant may hold at once (they live in the tenant's capacity record). */
  maxOpenLeases: z.coerce.number().int().min(1).max(100_000).default(2_000),
  /** How long a tenant policy read from the tenants actor is reused. */
  policyCacheMs: z.coerce.number().int().nonnegative().max(600_000).default(5_000),
  /** Share of the tenant's per-minute limits one service may use (1 = the whole allowance). */
  serviceShare: Share.default(1),
  /** Share of the tenant's per-minute limits one model may use, before the provider health factor. */
  modelShare: Share.default(1),
  /**
   * The largest part of any bucket's per-minute capacity, and of the budget, that one lease
   * covering several calls (a capacity share) may take; a larger share is refused RATE_LIMITED,
   * and its holder leases per call. Keeps small tenants' capacity spread over every replica.
   */
  maxShareFraction: Share.default(0.25),
  /** Shortest time between two halvings of a model's capacity: one burst of 429s counts once. */
  healthDecreaseWindowMs: z.coerce.number().int().nonnegative().max(600_000).default(1_000),
  /** Shortest time between two additive increases (and after a decrease) of a model's capacity. */
  healthRecoveryWindowMs: z.coerce.number().int().nonnegative().max(600_000).default(1_000),
  /** An `ok` call slower than this does not count towards recovery. */
  slowLatencyMs: z.coerce.number().int().positive().max(3_600_000).default(20_000),
  /** Longest retryAfterMs ever answered. */
  maxRetryAfterMs: z.coerce.number().int().positive().max(3_600_000).default(60_000),
});
export type AiCapacityConfig = Readonly<z.output<typeof AiCapacityConfigSchema>>;
export function retentionOf(config: AiCapacityConfig) {
  return { finishedMs: config.finishedRetentionMs, finishedCount: config.finishedCount };
}

export type AiCapacityConfigInput = z.input<typeof AiCapacityConfigSchema>;

export function parseAiCapacityConfig(input: AiCapacityConfigInput = {}): AiCapacityConfig {
  const parsed = AiCapacityConfigSchema.safeParse(input);
  if (!parsed.success) throw new Error(`invalid ai-capacity configuration: ${z.prettifyError(parsed.error)}`);
  const prices = Object.freeze(Object.fromEntries(Object.entries(parsed.data.prices).map(([model, price]) => [model, Object.freeze({ ...price })])));
  return Object.freeze({ ...parsed.data, prices });
}

/**
 * AI_PRICES (JSON object: model -> {inputPerMillion, outputPerMillion}), AI_LEASE_TTL_MS, AI_MAX_CALL_MS,
 * AI_LEASE_SWEEP_MS, AI_FINISHED_RETENTION_MS, AI_FINISHED_COUNT, AI_MAX_OPEN_LEASES, AI_POLICY_CACHE_MS, AI_SERVICE_SHARE, AI_MODEL_SHARE, AI_MAX_SHARE_FRACTION,
 * AI_HEALTH_DECREASE_WINDOW_MS, AI_HEALTH_RECOVERY_WINDOW_MS, AI_SLOW_LATENCY_MS, AI_MAX_RETRY_AFTER_MS.
 */
export function aiCapacityConfigFromEnv(env: NodeJS.ProcessEnv = process.env): AiCapacityConfig {
  let prices: unknown;
  try {
    prices = env.AI_PRICES ? JSON.parse(env.AI_PRICES) : undefined;
  } catch {
    throw new Error("invalid ai-capacity configuration: AI_PRICES is not JSON");
  }
  return parseAiCapacityConfig({
    prices: prices as AiCapacityConfigInput["prices"],
    leaseTtlMs: env.AI_LEASE_TTL_MS || undefined,
    maxCallMs: env.AI_MAX_CALL_MS || undefined,
    sweepIntervalMs: env.AI_LEASE_SWEEP_MS || undefined,
    finishedRetentionMs: env.AI_FINISHED_RETENTION_MS || undefined,
    finishedCount: env.AI_FINISHED_COUNT || undefined,
    maxOpenLeases: env.AI_MAX_OPEN_LEASES || undefined,
    policyCacheMs: env.AI_POLICY_CACHE_MS || undefined,
    serviceShare: env.AI_SERVICE_SHARE || undefined,
    modelShare: env.AI_MODEL_SHARE || undefined,
    maxShareFraction: env.AI_MAX_SHARE_FRACTION || undefined,
    healthDecreaseWindowMs: env.AI_HEALTH_DECREASE_WINDOW_MS || undefined,
    healthRecoveryWindowMs: env.AI_HEALTH_RECOVERY_WINDOW_MS || undefined,
    slowLatencyMs: env.AI_SLOW_LATENCY_MS || undefined,
    maxRetryAfterMs: env.AI_MAX_RETRY_AFTER_MS || undefined,
  });
}
