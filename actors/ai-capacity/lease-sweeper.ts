import type { Logger } from "pino";
import type { ActorStore } from "../../runtime/index.ts";
import { returnAll } from "./bucket-plan.ts";
import { chargeBudget } from "./budget.ts";
import { collectionsOf, type Collections } from "./collections.ts";
import type { LeaseExpiryDoc } from "./lease-records.ts";

const BATCH = 100;

/**
 * Moves an open lease past its expiry to `expired` with a conditional update; only the replica
 * whose update matched gives the grant and the reservation back, so across any number of
 * sweeping replicas (and a racing settle or release) that happens exactly once.
 */
export async function expireLease(store: Collections, entry: LeaseExpiryDoc, now: number): Promise<boolean> {
  const lease = await store.leases.findOneAndUpdate(entry.tenant, { _id: entry._id, state: "open", leaseExpiresAt: { $lte: now } }, {
    $set: { state: "expired" },
  });
  if (lease) {
    await chargeBudget(store.budgets, entry.tenant, lease.period, 0, lease.reservedNanoUsd);
    await returnAll(store.buckets, entry.tenant, lease.buckets, { tokens: lease.grantedTokens, requests: lease.grantedRequests });
  } else {
    const current = await store.leases.findOne(entry.tenant, { _id: entry._id });
    if (current?.state === "open") return false; // our clock is behind the one that granted it: later
  }
  await store.leaseExpiry.deleteOne({ _id: entry._id });
  return lease !== null;
}

export async function sweepExpiredLeases(store: Collections, now = Date.now()): Promise<number> {
  const due = await store.leaseExpiry.find({ leaseExpiresAt: { $lte: now } }, { sort: { leaseExpiresAt: 1 }, limit: BATCH });
  let expired = 0;
  for (const entry of due) {
    if (await expireLease(store, entry, now)) expired++;
  }
  return expired;
}

/** Every replica sweeps on an unref'd timer; the returned function stops it and waits for a sweep in progress. */
export function startLeaseSweeper(context: { store: ActorStore; log: Logger }, intervalMs: number): () => Promise<void> {
  const store = collectionsOf(context.store);
  let sweeping: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (sweeping) return;
    sweeping = sweepExpiredLeases(store)
      .then((expired) => {
        if (expired > 0) context.log.info({ expired }, "expired unsettled leases; their capacity and budget returned");
      })
      .catch((error: unknown) => context.log.warn({ err: error }, "lease sweep failed; next sweep retries"))
      .finally(() => { sweeping = undefined; });
  }, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await sweeping;
  };
}
