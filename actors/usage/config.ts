import { z } from "zod";

export const UsageConfigSchema = z.object({
  /** How long a tenant policy (for its budget) read from the tenants actor is reused. */
  policyCacheMs: z.coerce.number().int().nonnegative().max(600_000).default(5_000),
  /** Time one usage event may take before JetStream redelivers it to another replica. */
  ackWaitMs: z.coerce.number().int().min(500).max(600_000).default(30_000),
  /** Events a replica pulls at once. */
  batchSize: z.coerce.number().int().positive().max(1000).default(32),
  /** Unacknowledged events across all replicas (backpressure). */
  maxAckPending: z.coerce.number().int().positive().max(100_000).default(256),
  /** Days a usage record is kept (reports reach back this far). */
  retentionDays: z.coerce.number().int().min(8).max(3650).default(400),
  /** A budget-period spend checkpoint older than this is advanced on the next check. */
  checkpointEveryMs: z.coerce.number().int().nonnegative().max(86_400_000).default(300_000),
  /**
   * A checkpoint covers records applied at least this long ago: longer than any insert can be
   * under way (the driver's socket timeout is 10 s) plus the clock skew between replicas.
   */
  checkpointSafetyMs: z.coerce.number().int().nonnegative().max(3_600_000).default(60_000),
});
export type UsageConfig = Readonly<z.output<typeof UsageConfigSchema>>;
export type UsageConfigInput = z.input<typeof UsageConfigSchema>;

export function parseUsageConfig(input: UsageConfigInput = {}): UsageConfig {
  const parsed = UsageConfigSchema.safeParse(input);
  if (!parsed.success) throw new Error(`invalid usage configuration: ${z.prettifyError(parsed.error)}`);
  return Object.freeze(parsed.data);
}

/**
 * USAGE_POLICY_CACHE_MS, USAGE_ACK_WAIT_MS, USAGE_BATCH_SIZE, USAGE_MAX_ACK_PENDING,
 * USAGE_RETENTION_DAYS, USAGE_CHECKPOINT_EVERY_MS, USAGE_CHECKPOINT_SAFETY_MS.
 */
export function usageConfigFromEnv(env: NodeJS.ProcessEnv = process.env): UsageConfig {
  return parseUsageConfig({
    policyCacheMs: env.USAGE_POLICY_CACHE_MS || undefined,
    ackWaitMs: env.USAGE_ACK_WAIT_MS || undefined,
    batchSize: env.USAGE_BATCH_SIZE || undefined,
    maxAckPending: env.USAGE_MAX_ACK_PENDING || undefined,
    retentionDays: env.USAGE_RETENTION_DAYS || undefined,
    checkpointEveryMs: env.USAGE_CHECKPOINT_EVERY_MS || undefined,
    checkpointSafetyMs: env.USAGE_CHECKPOINT_SAFETY_MS || undefined,
  });
}
