import type { Logger } from "pino";
import type { ActorStore } from "../../runtime/index.ts";
import type { Retention } from "./capacity-state.ts";
import { expireDue } from "./lease-ops.ts";
import { CAPACITY_KEY, ledgersOf } from "./ledgers.ts";

/**
 * An open lease's entry in the global `lease_expiry` index: it lets one query find the tenants
 * whose leases are due, whatever replica granted them. Written before the lease is granted,
 * removed once it is finished; a stray entry costs one look that changes nothing.
 */
export interface LeaseExpiryDoc {
  _id: string;
  tenant: string;
  leaseExpiresAt: number;
}

const BATCH = 200;

/**
 * Expires the due leases of every tenant that has some. The expiry itself is one operation on
 * the tenant's record, so across any number of sweeping replicas (and a racing settle or
 * release) each lease's grant and reservation come back exactly once.
 */
export async function sweepExpiredLeases(store: ActorStore, retention: Retention, now = Date.now()): Promise<number> {
  const ledgers = ledgersOf(store);
  const due = await ledgers.leaseExpiry.find({ leaseExpiresAt: { $lte: now } }, { sort: { leaseExpiresAt: 1 }, limit: BATCH });
  let expired = 0;
  for (const tenant of new Set(due.map((entry) => entry.tenant))) {
    expired += (await ledgers.capacity.update(tenant, CAPACITY_KEY, expireDue(retention))).length;
    const ids = due.filter((entry) => entry.tenant === tenant).map((entry) => entry._id);
    await ledgers.leaseExpiry.deleteMany({ _id: { $in: ids } });
  }
  return expired;
}

/** Every replica sweeps on an unref'd timer; the returned function stops it and waits for a sweep in progress. */
export function startLeaseSweeper(context: { store: ActorStore; log: Logger }, options: { intervalMs: number; retention: Retention }): () => Promise<void> {
  let sweeping: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (sweeping) return;
    sweeping = sweepExpiredLeases(context.store, options.retention)
      .then((expired) => {
        if (expired > 0) context.log.info({ expired }, "expired unsettled leases; their capacity and budget returned");
      })
      .catch((error: unknown) => context.log.warn({ err: error }, "lease sweep failed; the next sweep retries"))
      .finally(() => { sweeping = undefined; });
  }, options.intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await sweeping;
    await ledgersOf(context.store).expiryCleanup.flush(context.log);
  };
}
