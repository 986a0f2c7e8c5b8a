import { tenantsContract, type TenantPolicyFields } from "../../protocol/tenants.ts";
import { actorClient, hasCode, type MeshClient } from "../../runtime/index.ts";

export type DemoRole = "tight-budget" | "rate-limited" | "generous";

export interface DemoTenant {
  readonly id: string;
  readonly role: DemoRole;
  readonly policy: TenantPolicyFields;
}

function policy(displayName: string, requestsPerMinute: number, tokensPerMinute: number, amountUsd: number): TenantPolicyFields {
  return {
    displayName,
    limits: { requestsPerMinute, tokensPerMinute },
    budget: { amountUsd, period: "day" },
    allowedModels: [],
    allowedTools: [],
    maxPromptTokens: 4000,
    retention: { storePrompts: false, retentionDays: 7 },
  };
}

/**
 * Three tenants with different policies, so the demo shows each kind of limit at work:
 * acme's daily budget lasts about a dozen gpt-4o completions, then OVER_BUDGET; globex may
 * send 12 LLM requests a minute, so it is RATE_LIMITED most of the time; initech has room.
 */
export const DEMO_TENANTS: readonly DemoTenant[] = Object.freeze([
  { id: "acme", role: "tight-budget", policy: policy("Acme (tight budget)", 600, 1_000_000, 0.004) },
  { id: "globex", role: "rate-limited", policy: policy("Globex (low rate limit)", 12, 1_000_000, 100) },
  { id: "initech", role: "generous", policy: policy("Initech (generous)", 6000, 10_000_000, 1000) },
]);

/**
 * Creates the demo tenants, or resets their policies when they exist already (a sandbox
 * joined to a MongoDB that kept the data of an earlier run).
 */
export async function seedDemoTenants(mesh: MeshClient, tenants: readonly DemoTenant[] = DEMO_TENANTS): Promise<void> {
  const client = actorClient(mesh, tenantsContract);
  for (const tenant of tenants) {
    try {
      await client.put({ policy: tenant.policy, expectedVersion: 0 }, { tenant: tenant.id, timeoutMs: 10_000 });
    } catch (error) {
      if (!hasCode(error, "CONFLICT")) throw error;
      const current = await client.get({}, { tenant: tenant.id });
      await client.put({ policy: tenant.policy, expectedVersion: current.version }, { tenant: tenant.id, timeoutMs: 10_000 });
    }
  }
}
