import type { ActorStore, CollectionSpec, GlobalCollection } from "../../runtime/index.ts";
import { emptyCapacityState, type CapacityState } from "./capacity-state.ts";
import { ExpiryCleanup } from "./expiry-cleanup.ts";
import type { LeaseExpiryDoc } from "./lease-expiry.ts";
import { HEALTHY, type HealthState } from "./provider-health.ts";
import { globalVersionLog, TENANT_VERSION_INDEXES, tenantVersionLog, VERSION_INDEXES, type StoredVersion } from "./version-logs.ts";
import { VersionedState, type StateStore } from "./versioned-state.ts";

/** The actor's collections (the README's Data section explains each). */
export const COLLECTION_SPECS = {
  // Tenant records, but declared global so reads stay `{ _id }` (see version-logs.ts: ids start with the tenant).
  capacity: { tenantOwned: false, indexes: TENANT_VERSION_INDEXES },
  provider_health: { tenantOwned: false, indexes: VERSION_INDEXES },
  lease_expiry: { tenantOwned: false, indexes: [{ key: { leaseExpiresAt: 1 }, name: "by_lease_expiry" }] },
} as const satisfies Record<string, CollectionSpec>;

/** The key of each tenant's one capacity record. */
export const CAPACITY_KEY = "capacity";

export interface Ledgers {
  /** One record per tenant: scope = tenant, key = CAPACITY_KEY. */
  readonly capacity: StateStore<CapacityState>;
  /** One record per model: key = model (the scope is unused). */
  readonly health: StateStore<HealthState>;
  readonly leaseExpiry: GlobalCollection<LeaseExpiryDoc>;
  /** Removes finished leases' expiry entries in batches, off the reply path. */
  readonly expiryCleanup: ExpiryCleanup;
}

// One set per store, that is per replica: each replica batches its own commits.
const byStore = new WeakMap<ActorStore, Ledgers>();

export function ledgersOf(store: ActorStore): Ledgers {
  let ledgers = byStore.get(store);
  if (!ledgers) {
    const leaseExpiry = store.globalCollection<LeaseExpiryDoc>("lease_expiry");
    ledgers = {
      capacity: new VersionedState(tenantVersionLog(store.globalCollection<StoredVersion & { tenant: string }>("capacity")), { initial: emptyCapacityState }),
      health: new VersionedState(globalVersionLog(store.globalCollection<StoredVersion>("provider_health")), { initial: () => ({ ...HEALTHY }) }),
      leaseExpiry,
      expiryCleanup: new ExpiryCleanup(leaseExpiry),
    };
    byStore.set(store, ledgers);
  }
  return ledgers;
}
