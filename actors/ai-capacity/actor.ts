import { aiCapacityContract } from "../../protocol/ai-capacity.ts";
import { tenantsContract } from "../../protocol/tenants.ts";
import { createTenantPolicyCache, defineActor } from "../../runtime/index.ts";
import { aiCapacityConfigFromEnv, parseAiCapacityConfig, retentionOf, type AiCapacityConfig } from "./config.ts";
import { createLeaseHandler } from "./lease.ts";
import { startLeaseSweeper } from "./lease-expiry.ts";
import { COLLECTION_SPECS } from "./ledgers.ts";
import { createFinishHandlers } from "./settle.ts";
import { createSettlementConsumer } from "./settlement-events.ts";
import { createSignalHandler } from "./signal.ts";
import { createStatusHandler } from "./status.ts";

/** The ai-capacity actor with the given configuration (tests shorten lease expiry and health windows). */
export function createAiCapacityActor(settings: AiCapacityConfig = parseAiCapacityConfig()) {
  const policies = createTenantPolicyCache(settings.policyCacheMs);
  const finish = createFinishHandlers(settings);
  return defineActor({
    name: "ai-capacity",
    version: "1.0.0",
    description: "Leased token buckets per tenant, service and model; per-tenant budgets; adaptive provider capacity",
    contract: aiCapacityContract,
    collections: COLLECTION_SPECS,
    // Tenant policies (limits, budgets) through the policy cache.
    calls: [tenantsContract],
    handlers: {
      lease: createLeaseHandler(settings, policies),
      settle: finish.settle,
      release: finish.release,
      signal: createSignalHandler(settings),
      status: createStatusHandler(policies),
      prices: async () => ({
        models: Object.entries(settings.prices).sort(([a], [b]) => a.localeCompare(b)).map(([model, price]) => ({ model, ...price })),
      }),
    },
    consumers: [createSettlementConsumer(settings)],
    limits: { maxInFlight: 64 },
    onStart: async (context) => startLeaseSweeper(context, { intervalMs: settings.sweepIntervalMs, retention: retentionOf(settings) }),
  });
}

/** Configured from the environment once, at import (see README: Configuration). */
export const aiCapacityActor = createAiCapacityActor(aiCapacityConfigFromEnv());
