import type { ActorStore, CollectionSpec } from "../../runtime/index.ts";
import type { BucketDoc } from "./buckets.ts";
import type { BudgetDoc } from "./budget.ts";
import type { LeaseDoc, LeaseExpiryDoc } from "./lease-records.ts";
import type { HealthDoc } from "./provider-health.ts";

/** The actor's collections. Document ids of tenant-owned ones start with the tenant: `_id` is unique per collection. */
export const COLLECTION_SPECS = {
  buckets: { tenantOwned: true },
  budgets: { tenantOwned: true },
  // Finished lease records go after a retention time; `expiresAt` is that time, not the lease's expiry.
  leases: { tenantOwned: true, expires: true },
  // Open leases by expiry, across tenants, so one query finds every lease the sweeper must return.
  lease_expiry: { tenantOwned: false, indexes: [{ key: { leaseExpiresAt: 1 }, name: "by_lease_expiry" }] },
  provider_health: { tenantOwned: false },
} as const satisfies Record<string, CollectionSpec>;

export function collectionsOf(store: ActorStore) {
  return {
    buckets: store.collection<BucketDoc>("buckets"),
    budgets: store.collection<BudgetDoc>("budgets"),
    leases: store.collection<LeaseDoc>("leases"),
    leaseExpiry: store.globalCollection<LeaseExpiryDoc>("lease_expiry"),
    providerHealth: store.globalCollection<HealthDoc>("provider_health"),
  };
}

export type Collections = ReturnType<typeof collectionsOf>;
