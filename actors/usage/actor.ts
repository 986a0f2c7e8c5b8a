import { llmContract } from "../../protocol/llm.ts";
import { usageContract } from "../../protocol/usage.ts";
import { consumeEvent, createTenantPolicyCache, defineActor } from "../../runtime/index.ts";
import { createBudgetWarnings } from "./budget-warnings.ts";
import { parseUsageConfig, usageConfigFromEnv, type UsageConfig, type UsageConfigInput } from "./config.ts";
import { createUsageConsumer } from "./consume-usage.ts";
import { reportUsage } from "./report.ts";
import { BUDGET_WARNINGS, SPEND_CHECKPOINTS, USAGE_RECORDS } from "./usage-records.ts";

/** The usage actor for one configuration; the policy cache and warning memory live per process. */
export function createUsageActor(configInput: UsageConfig | UsageConfigInput = {}) {
  const config = parseUsageConfig(configInput);
  const consumeUsage = createUsageConsumer({
    retentionDays: config.retentionDays,
    policies: createTenantPolicyCache(config.policyCacheMs),
    warnings: createBudgetWarnings({ everyMs: config.checkpointEveryMs, safetyMs: config.checkpointSafetyMs }),
  });
  return defineActor({
    name: "usage",
    version: "1.0.0",
    description: "Per-tenant, per-service, per-model daily usage and cost from llm usage events; budget warnings",
    contract: usageContract,
    collections: {
      [USAGE_RECORDS]: {
        tenantOwned: true,
        expires: true,
        // One declared index per collection: FerretDB 1.24 crashes re-creating several in one call.
        // Uniqueness per event comes from `_id`.
        indexes: [{ key: { tenant: 1, day: 1, appliedAt: 1 }, name: "records_by_day" }],
      },
      [SPEND_CHECKPOINTS]: {
        tenantOwned: true,
        expires: true,
        indexes: [{ key: { tenant: 1, period: 1, until: -1 }, name: "checkpoints_by_period" }],
      },
      [BUDGET_WARNINGS]: { tenantOwned: true, expires: true },
    },
    handlers: { report: reportUsage },
    consumers: [consumeEvent({
      event: llmContract.events.usage,
      handler: consumeUsage,
      ackWaitMs: config.ackWaitMs,
      batchSize: config.batchSize,
      maxAckPending: config.maxAckPending,
      // Each event is stored once under `<tenant>/<eventId>`: the handler is idempotent by itself,
      // so the runtime's per-event dedupe record would be a second write for nothing.
      dedupe: false,
    })],
    limits: { maxInFlight: 64 },
  });
}

/** The usage actor configured from the environment (see README, Configuration). */
export const usageActor = createUsageActor(usageConfigFromEnv());
