import { tenantsContract } from "../../protocol/tenants.ts";
import { defineActor } from "../../runtime/index.ts";
import { getTenant, putTenant } from "./handlers.ts";
import { POLICIES } from "./policy-records.ts";

/** Per-tenant configuration and policy; the source other actors read limits and budgets from. */
export const tenantsActor = defineActor({
  name: "tenants",
  version: "1.0.0",
  description: "Per-tenant configuration and policy: limits, budget, models, tools, prompt limits, retention",
  contract: tenantsContract,
  collections: {
    // Keyed records only (see policy-records.ts): a head per tenant and one record per version,
    // whose unique `_id` makes concurrent puts of one version race safely. No other index.
    [POLICIES]: { tenantOwned: true },
  },
  handlers: { get: getTenant, put: putTenant },
  limits: { maxInFlight: 64 },
});
