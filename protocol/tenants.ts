import { z } from "zod";
import { defineContract } from "./contract.ts";
import { HEADER_LIMITS } from "./headers.ts";

export const TenantId = z.string().regex(HEADER_LIMITS.tenant, "lower-case letters, digits and dashes, at most 63");

/** Per-tenant configuration and policy. Every other actor reads it through `tenants.get`. */
export const TenantPolicyFields = z.strictObject({
  displayName: z.string().min(1).max(100),
  limits: z.strictObject({
    /** LLM requests per minute for the tenant (all services together). */
    requestsPerMinute: z.number().int().positive().max(1_000_000),
    /** LLM tokens (prompt + completion) per minute for the tenant. */
    tokensPerMinute: z.number().int().positive().max(1_000_000_000),
  }),
  budget: z.strictObject({
    /** Spend allowed per period, US dollars. */
    amountUsd: z.number().nonnegative().max(1_000_000),
    period: z.enum(["day", "month"]),
  }),
  /** Models the tenant may use; empty means every priced model. */
  allowedModels: z.array(z.string().min(1).max(100)).max(100),
  /** Tools (function names) the tenant may offer to a model; empty means none. */
  allowedTools: z.array(z.string().min(1).max(64)).max(100),
  /** Largest prompt accepted, counted with the model's tokenizer. */
  maxPromptTokens: z.number().int().positive().max(2_000_000),
  retention: z.strictObject({
    /** Keep prompt and output text as evaluation samples (off by default: only hashes and sizes). */
    storePrompts: z.boolean(),
    /** Days any stored AI record of the tenant is kept. */
    retentionDays: z.number().int().min(1).max(365),
  }),
  /** A suspended tenant's API keys are refused by the gateway (403); absent means active. */
  suspended: z.boolean().optional(),
});
export type TenantPolicyFields = z.infer<typeof TenantPolicyFields>;

export const TenantPolicy = TenantPolicyFields.extend({
  tenantId: TenantId,
  version: z.number().int().positive(),
  updatedAt: z.string(),
});
export type TenantPolicy = z.infer<typeof TenantPolicy>;

export const GetTenantRequest = z.strictObject({});

export const PutTenantRequest = z.strictObject({
  policy: TenantPolicyFields,
  /** The version this write replaces; 0 creates the tenant. A stale version gets CONFLICT. */
  expectedVersion: z.number().int().nonnegative(),
});

export const TenantUpdated = z.object({
  tenantId: TenantId,
  version: z.number().int().positive(),
  policy: TenantPolicy,
});

export const tenantsContract = defineContract({
  actor: "tenants",
  requests: {
    /** The calling tenant's policy (tenant from the Mw-Tenant header); NOT_FOUND if unknown. */
    get: { subject: "tenants.get", input: GetTenantRequest, output: TenantPolicy, tenantFacing: true },
    /** Creates or replaces the tenant's policy, versioned. */
    put: { subject: "tenants.put", input: PutTenantRequest, output: TenantPolicy, mutating: true, role: "tenant-admin" },
  },
  events: {
    updated: { subject: "events.tenants.updated", schema: TenantUpdated },
  },
});
