import { tenantsContract, type TenantPolicy } from "../../protocol/tenants.ts";
import { defineActor } from "../../runtime/index.ts";
import { getTenant, putTenant } from "./handlers.ts";

/** Per-tenant configuration and policy; the source other actors read limits and budgets from. */
export const tenantsActor = defineActor({
  name: "tenants",
  version: "1.0.0",
  description: "Per-tenant configuration and policy: limits, budget, models, tools, prompt limits, retention",
  contract: tenantsContract,
  collections: {
    // One document per version; the unique index makes concurrent puts of one version race safely.
    policies: { tenantOwned: true, indexes: [{ key: { tenant: 1, version: 1 }, unique: true, name: "one_document_per_version" }] },
  },
  handlers: { get: getTenant, put: putTenant },
  limits: { maxInFlight: 64 },
});

export type StoredPolicy = TenantPolicy & { tenant: string };
