import type { UsageEvent } from "../../protocol/llm.ts";
import type { TenantPolicy } from "../../protocol/tenants.ts";
import { MeshError, hasCode, type WorkContext, type TenantPolicyCache } from "../../runtime/index.ts";
import type { createBudgetWarnings } from "./budget-warnings.ts";
import type { UsageLedger } from "./usage-ledger.ts";

export interface UsageConsumerServices {
  readonly ledger: UsageLedger;
  readonly policies: TenantPolicyCache;
  readonly warnings: ReturnType<typeof createBudgetWarnings>;
  /** Per-event records of a tenant the tenants actor does not know are kept this many days. */
  readonly defaultRetentionDays: number;
}

/** Counts one llm usage event (exactly once, batched with others), then checks the tenant's budget thresholds. */
export function createUsageConsumer(services: UsageConsumerServices) {
  return async function consumeUsage(event: UsageEvent, context: WorkContext & { readonly eventId: string }): Promise<void> {
    // The store scopes by the header's tenant; an event naming another one is malformed (dead-lettered).
    if (event.tenant !== context.tenant) throw new MeshError("BAD_REQUEST", "usage event tenant differs from its Mw-Tenant header");
    const policy = await policyOf(services.policies, context);
    const retentionDays = policy?.retention.retentionDays ?? services.defaultRetentionDays;
    const dayCells = await services.ledger.apply(context.store, { tenant: context.tenant, eventId: context.eventId, event, retentionDays });
    // Also after a redelivery: a crash may have come between counting and warning.
    if (event.costUsd <= 0 || !policy) return;
    await services.warnings.check(context, services.ledger.dayLedger(context.store), policy, event, dayCells);
  };
}

/** The tenant's policy (cached); none for a tenant removed since. Anything else is retried. */
async function policyOf(policies: TenantPolicyCache, context: WorkContext): Promise<TenantPolicy | undefined> {
  try {
    return await policies.get(context);
  } catch (error) {
    if (hasCode(error, "NOT_FOUND")) return undefined;
    throw error;
  }
}
