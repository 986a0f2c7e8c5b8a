import { llmContract } from "../../protocol/llm.ts";
import { usageContract } from "../../protocol/usage.ts";
import { tenantsContract } from "../../protocol/tenants.ts";
import { consumeEvent, createTenantPolicyCache, defineActor } from "../../runtime/index.ts";
import { createBudgetWarnings } from "./budget-warnings.ts";
import { parseUsageConfig, usageConfigFromEnv, type UsageConfig, type UsageConfigInput } from "./config.ts";
import { createUsageConsumer } from "./consume-usage.ts";
import { createPeriodSpend } from "./period-spend.ts";
import { createReportUsage } from "./report.ts";
import { createUsageLedger } from "./usage-ledger.ts";
import { BUDGET_WARNINGS, USAGE_EVENTS, USAGE_HEADS, USAGE_SLOTS } from "./usage-records.ts";

/** The usage actor for one configuration; the ledger's batch, the policy cache and warning memory live per process. */
export function createUsageActor(configInput: UsageConfig | UsageConfigInput = {}) {
  const config = parseUsageConfig(configInput);
  const ledger = createUsageLedger({ maxBatch: 1000, rollupRetentionDays: config.retentionDays });
  const consumeUsage = createUsageConsumer({
    ledger,
    policies: createTenantPolicyCache(config.policyCacheMs),
    warnings: createBudgetWarnings(createPeriodSpend({ closedDayMs: config.closedDayCacheMs })),
    defaultRetentionDays: config.defaultEventRetentionDays,
  });
  return defineActor({
    name: "usage",
    version: "2.0.0",
    description: "Per-tenant, per-service, per-model daily usage and cost from llm usage events; budget warnings",
    contract: usageContract,
    // Every read is a point read by `_id` (keys in usage-records.ts); the only declared index
    // beyond `_id` (and expiry) is the uniqueness that lets a batch commit once.
    collections: {
      [USAGE_EVENTS]: { tenantOwned: true, expires: true },
      [USAGE_SLOTS]: { tenantOwned: true, expires: true, indexes: [{ key: { batch: 1 }, unique: true, name: "one_decision_per_batch" }] },
      [USAGE_HEADS]: { tenantOwned: true, expires: true },
      [BUDGET_WARNINGS]: { tenantOwned: true, expires: true },
    },
    handlers: { report: createReportUsage((context) => ledger.dayLedger(context.store)) },
    // Tenant budgets, for the warnings.
    calls: [tenantsContract],
    consumers: [consumeEvent({
      event: llmContract.events.usage,
      handler: consumeUsage,
      ackWaitMs: config.ackWaitMs,
      batchSize: config.batchSize,
      maxAckPending: config.maxAckPending,
      // Every event is claimed once under `<tenant>/e/<eventId>` and counted by the batch holding
      // the claim: the runtime's per-event dedupe record would be a second write for nothing.
      dedupe: false,
    })],
    limits: { maxInFlight: 64 },
  });
}

/** The usage actor configured from the environment (see README, Configuration). */
export const usageActor = createUsageActor(usageConfigFromEnv());
