import { z } from "zod";

export const UsageConfigSchema = z.object({
  /** How long a tenant policy (budget, retention) read from the tenants actor is reused. */
  policyCacheMs: z.coerce.number().int().nonnegative().max(600_000).default(5_000),
  /** Time one usage event may take before JetStream redelivers it to another replica. */
  ackWaitMs: z.coerce.number().int().min(500).max(600_000).default(30_000),
  /** Events a replica pulls and holds at once: the most one ledger batch can gather. */
  batchSize: z.coerce.number().int().positive().max(1000).default(256),
  /** Unacknowledged events across all replicas (backpressure). */
  maxAckPending: z.coerce.number().int().positive().max(100_000).default(1024),
  /** Days the day ledgers (the totals) are kept: reports reach back this far. */
  retentionDays: z.coerce.number().int().min(8).max(3650).default(400),
  /** Days a per-event record is kept for a tenant the tenants actor does not know (known tenants: their policy's retention). */
  defaultEventRetentionDays: z.coerce.number().int().min(1).max(3650).default(30),
  /** How long the spend of a finished day is reused by budget checks. */
  closedDayCacheMs: z.coerce.number().int().nonnegative().max(3_600_000).default(60_000),
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
 * USAGE_RETENTION_DAYS, USAGE_DEFAULT_EVENT_RETENTION_DAYS, USAGE_CLOSED_DAY_CACHE_MS.
 */
export function usageConfigFromEnv(env: NodeJS.ProcessEnv = process.env): UsageConfig {
  return parseUsageConfig({
    policyCacheMs: env.USAGE_POLICY_CACHE_MS || undefined,
    ackWaitMs: env.USAGE_ACK_WAIT_MS || undefined,
    batchSize: env.USAGE_BATCH_SIZE || undefined,
    maxAckPending: env.USAGE_MAX_ACK_PENDING || undefined,
    retentionDays: env.USAGE_RETENTION_DAYS || undefined,
    defaultEventRetentionDays: env.USAGE_DEFAULT_EVENT_RETENTION_DAYS || undefined,
    closedDayCacheMs: env.USAGE_CLOSED_DAY_CACHE_MS || undefined,
  });
}
