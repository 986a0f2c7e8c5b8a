import { llmContract } from "../../protocol/llm.ts";
import { usageContract } from "../../protocol/usage.ts";
import { consumeEvent, defineActor } from "../../runtime/index.ts";
import { createBudgetWarnings } from "./budget-warnings.ts";
import { parseUsageConfig, usageConfigFromEnv, type UsageConfig, type UsageConfigInput } from "./config.ts";
import { createUsageConsumer } from "./consume-usage.ts";
import { createPolicyCache } from "./policy-cache.ts";
import { reportUsage } from "./report.ts";
import { APPLIED_EVENTS, BUDGET_WARNINGS, USAGE_DAILY } from "./usage-records.ts";

/** The usage actor for one configuration; the policy cache and warning memory live per process. */
export function createUsageActor(configInput: UsageConfig | UsageConfigInput = {}) {
  const config = parseUsageConfig(configInput);
  const consumeUsage = createUsageConsumer({
    timing: { claimMs: config.ackWaitMs, claimMarginMs: config.claimMarginMs, memoryTtlMs: config.appliedEventTtlMs },
    policies: createPolicyCache(config.policyCacheMs),
    warnings: createBudgetWarnings(),
  });
  return defineActor({
    name: "usage",
    version: "1.0.0",
    description: "Per-tenant, per-service, per-model daily usage and cost from llm usage events; budget warnings",
    contract: usageContract,
    collections: {
      [USAGE_DAILY]: {
        tenantOwned: true,
        indexes: [{ key: { tenant: 1, day: 1, service: 1, model: 1 }, unique: true, name: "one_bucket_per_tenant_day_service_model" }],
      },
      [APPLIED_EVENTS]: {
        tenantOwned: true,
        expires: true,
        indexes: [{ key: { tenant: 1, eventId: 1 }, unique: true, name: "one_record_per_event" }],
      },
      [BUDGET_WARNINGS]: {
        tenantOwned: true,
        expires: true,
        indexes: [{ key: { tenant: 1, period: 1, threshold: 1 }, unique: true, name: "one_warning_per_period_and_threshold" }],
      },
    },
    handlers: { report: reportUsage },
    consumers: [consumeEvent({
      event: llmContract.events.usage,
      handler: consumeUsage,
      ackWaitMs: config.ackWaitMs,
      batchSize: config.batchSize,
      maxAckPending: config.maxAckPending,
      // Waiting out another delivery's claim takes a few redeliveries; schema failures are never retried.
      maxDeliver: 10,
    })],
    limits: { maxInFlight: 64 },
  });
}

/** The usage actor configured from the environment (see README, Configuration). */
export const usageActor = createUsageActor(usageConfigFromEnv());
