import type { UsageEvent } from "../../protocol/llm.ts";
import type { TenantPolicy } from "../../protocol/tenants.ts";
import { MeshError, hasCode, type WorkContext, type TenantPolicyCache } from "../../runtime/index.ts";
import { applyUsageEvent } from "./apply-event.ts";
import type { createBudgetWarnings } from "./budget-warnings.ts";

/** Applies one llm usage event, then checks the tenant's budget thresholds. */
export function createUsageConsumer(services: { retentionDays: number; policies: TenantPolicyCache; warnings: ReturnType<typeof createBudgetWarnings> }) {
  return async function consumeUsage(event: UsageEvent, context: WorkContext & { readonly eventId: string }): Promise<void> {
    // The store scopes by the header's tenant; an event naming another one is malformed (dead-lettered).
    if (event.tenant !== context.tenant) throw new MeshError("BAD_REQUEST", "usage event tenant differs from its Mw-Tenant header");
    await applyUsageEvent(context.store, context.tenant, context.eventId, event, services.retentionDays);
    // Also after a redelivery: a crash may have come between applying and warning.
    if (event.costUsd <= 0) return;
    let policy: TenantPolicy;
    try {
      policy = await services.policies.get(context);
    } catch (error) {
      // A tenant removed since: nothing to warn about. Anything else is retried.
      if (hasCode(error, "NOT_FOUND")) return;
      throw error;
    }
    await services.warnings.check(context, policy, event);
  };
}
