import type { z } from "zod";
import type { aiCapacityContract, ReleaseResult, SettleResult } from "../../protocol/ai-capacity.ts";
import { MeshError, type WorkContext } from "../../runtime/index.ts";
import { returnAll } from "./bucket-plan.ts";
import { chargeBudget } from "./budget.ts";
import { collectionsOf } from "./collections.ts";
import type { LeaseDoc, Settlement } from "./lease-records.ts";
import { costNanoUsd, tokenPrice, usdFromNano } from "./prices.ts";

type SettleInput = z.output<typeof aiCapacityContract.requests.settle.input>;
type ReleaseInput = z.output<typeof aiCapacityContract.requests.release.input>;

function settled(lease: LeaseDoc, settlement: Settlement, alreadySettled: boolean): SettleResult {
  return { leaseId: lease._id, costUsd: usdFromNano(settlement.costNanoUsd), returnedTokens: settlement.returnedTokens, alreadySettled };
}

/**
 * Books actual usage. Whoever moves the lease out of `open` (or `expired`) with a conditional
 * update does the booking, so a repeated or concurrent settle is a no-op that reports the first
 * result. An open lease is charged its cost, its reservation is dropped and the unused grant
 * goes back (a negative return when usage exceeded it). An expired lease already gave its
 * grant and reservation back: it is charged the cost (the money was spent) and the used
 * tokens are debited from the buckets again, so nothing is returned twice.
 */
export async function settleLease(input: SettleInput, context: WorkContext): Promise<SettleResult> {
  const store = collectionsOf(context.store);
  for (let attempt = 0; attempt < 3; attempt++) {
    const lease = await store.leases.findOne(context.tenant, { _id: input.leaseId });
    if (!lease) throw new MeshError("NOT_FOUND", "unknown lease");
    if (lease.state === "settled" && lease.settlement) return settled(lease, lease.settlement, true);
    if (lease.state === "released") throw new MeshError("CONFLICT", "the lease was released; it cannot be settled");
    const from = lease.state === "expired" ? "expired" : "open";
    const used = { tokens: input.promptTokens + input.completionTokens, requests: input.requests };
    const returned = from === "open"
      ? { tokens: lease.grantedTokens - used.tokens, requests: lease.grantedRequests - used.requests }
      : { tokens: -used.tokens, requests: -used.requests };
    const settlement: Settlement = {
      from, promptTokens: input.promptTokens, completionTokens: input.completionTokens, requests: input.requests,
      costNanoUsd: costNanoUsd(tokenPrice(lease.price), input), returnedTokens: returned.tokens, at: Date.now(),
    };
    const won = await store.leases.findOneAndUpdate(context.tenant, { _id: lease._id, state: from }, { $set: { state: "settled", settlement } });
    if (!won) continue; // the sweeper or another settle moved it first: look again
    await chargeBudget(store.budgets, context.tenant, lease.period, settlement.costNanoUsd, from === "open" ? lease.reservedNanoUsd : 0);
    await returnAll(store.buckets, context.tenant, lease.buckets, returned);
    if (from === "open") await forgetExpiry(context, lease._id);
    return settled(lease, settlement, false);
  }
  throw new MeshError("CONFLICT", "the lease changed state while settling; try again", { retryAfterMs: 10 });
}

/** Gives an unused lease's whole grant and reservation back; false if it was no longer open. */
export async function releaseLease(input: ReleaseInput, context: WorkContext): Promise<ReleaseResult> {
  const store = collectionsOf(context.store);
  const lease = await store.leases.findOneAndUpdate(context.tenant, { _id: input.leaseId, state: "open" }, { $set: { state: "released" } });
  if (!lease) {
    if (!(await store.leases.findOne(context.tenant, { _id: input.leaseId }))) throw new MeshError("NOT_FOUND", "unknown lease");
    return { leaseId: input.leaseId, released: false };
  }
  await chargeBudget(store.budgets, context.tenant, lease.period, 0, lease.reservedNanoUsd);
  await returnAll(store.buckets, context.tenant, lease.buckets, { tokens: lease.grantedTokens, requests: lease.grantedRequests });
  await forgetExpiry(context, lease._id);
  return { leaseId: input.leaseId, released: true };
}

async function forgetExpiry(context: WorkContext, leaseId: string): Promise<void> {
  // Left behind, the entry costs the sweeper one no-op look later; not worth failing the reply.
  await collectionsOf(context.store).leaseExpiry.deleteOne({ _id: leaseId }).catch((error: unknown) => {
    context.log.warn({ err: error, leaseId }, "could not remove a finished lease from the expiry index");
  });
}
