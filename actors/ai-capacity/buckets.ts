import { hasCode, type TenantCollection } from "../../runtime/index.ts";
import { fullBucket, holds, refilled, refillWaitMs, type BucketAmount, type BucketCapacity, type BucketLevel } from "./bucket-math.ts";

/** One token-and-request bucket in the tenant-owned `buckets` collection. */
export interface BucketDoc extends BucketLevel {
  _id: string;
  tenant?: string;
  /** Bumped by every refill (and only by refills): refills are compare-and-set on it. */
  version: number;
}

export type TakeResult = { readonly ok: true } | { readonly ok: false; readonly waitMs: number };

// Refill writes are batched to at most one per bucket per step: under load every take would
// otherwise race to move the clock. Credit is deferred by the step, never lost.
const REFILL_STEP_MS = 50;
const MAX_ATTEMPTS = 6;

/**
 * Takes an amount from a bucket, with no lock: takes and returns are single conditional `$inc`s
 * (so concurrent ones never conflict), and refill is a compare-and-set on `version` that only
 * applies its credit if no return slipped in since the read. Any number of replicas may run it.
 */
export async function takeFromBucket(
  buckets: TenantCollection<BucketDoc>, tenant: string, key: string, capacity: BucketCapacity, amount: BucketAmount,
): Promise<TakeResult> {
  let level: BucketLevel = fullBucket(capacity, Date.now());
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const now = Date.now();
    const doc = await refillIfDue(buckets, tenant, key, capacity, now);
    level = doc;
    if (!holds(doc, amount)) break;
    const taken = await buckets.findOneAndUpdate(tenant, { _id: key, tokens: { $gte: amount.tokens }, requests: { $gte: amount.requests } }, {
      $inc: { tokens: -amount.tokens, requests: -amount.requests },
    });
    if (taken) return { ok: true };
  }
  // Short, or outrun by other takes on every attempt: either way the bucket is at its limit.
  return { ok: false, waitMs: Math.max(1, refillWaitMs(refilled(level, capacity, Date.now()), capacity, amount)) };
}

/**
 * Gives tokens back, never past capacity: `$inc` while there is room, else `$set` to capacity,
 * each conditional so a concurrent change makes it try again. A negative amount (overage used
 * beyond the grant) is taken unconditionally: the tokens were spent.
 */
export async function returnToBucket(
  buckets: TenantCollection<BucketDoc>, tenant: string, key: string, capacity: BucketCapacity, amount: BucketAmount,
): Promise<void> {
  if (amount.tokens >= 0 && amount.requests >= 0) {
    if (amount.tokens === 0 && amount.requests === 0) return;
    const roomy = await buckets.updateOne(tenant, {
      _id: key, tokens: { $lte: capacity.tokensPerMinute - amount.tokens }, requests: { $lte: capacity.requestsPerMinute - amount.requests },
    }, { $inc: { tokens: amount.tokens, requests: amount.requests } });
    if (roomy.matched > 0) return;
  }
  await returnField(buckets, tenant, key, "tokens", capacity.tokensPerMinute, amount.tokens);
  await returnField(buckets, tenant, key, "requests", capacity.requestsPerMinute, amount.requests);
}

async function returnField(buckets: TenantCollection<BucketDoc>, tenant: string, key: string, field: "tokens" | "requests", cap: number, amount: number): Promise<void> {
  if (amount === 0) return;
  if (amount < 0) {
    await buckets.updateOne(tenant, { _id: key }, { $inc: { [field]: amount } });
    return;
  }
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const added = await buckets.updateOne(tenant, { _id: key, [field]: { $lte: cap - amount } }, { $inc: { [field]: amount } });
    if (added.matched > 0) return;
    const filled = await buckets.updateOne(tenant, { _id: key, [field]: { $gt: cap - amount } }, { $set: { [field]: cap } });
    if (filled.matched > 0) return;
    // Neither matched: the bucket is gone (nothing to return to) or changed between the two.
    if ((await buckets.findOne(tenant, { _id: key })) === null) return;
  }
}

/** The bucket's level at `now` without writing (a missing bucket is full). */
export async function peekBucket(buckets: TenantCollection<BucketDoc>, tenant: string, key: string, capacity: BucketCapacity, now: number): Promise<BucketLevel> {
  const doc = await buckets.findOne(tenant, { _id: key });
  return refilled(doc ?? fullBucket(capacity, now), capacity, now);
}

/** The bucket as stored after crediting refill when a step is due (or capacity shrank). */
async function refillIfDue(buckets: TenantCollection<BucketDoc>, tenant: string, key: string, capacity: BucketCapacity, now: number): Promise<BucketDoc> {
  let doc = await loadOrCreate(buckets, tenant, key, capacity, now);
  for (let attempt = 0; attempt < 3; attempt++) {
    const overfull = doc.tokens > capacity.tokensPerMinute || doc.requests > capacity.requestsPerMinute;
    if (now - doc.updatedAt < REFILL_STEP_MS && !overfull) return doc;
    const next = refilled(doc, capacity, now);
    // `$inc` rather than `$set`: a take that lands between our read and this write keeps its effect.
    // The upper bounds on tokens and requests make a concurrent return void the credit we computed.
    const after = await buckets.findOneAndUpdate(tenant, {
      _id: key, version: doc.version, tokens: { $lte: doc.tokens }, requests: { $lte: doc.requests },
    }, {
      $inc: { tokens: next.tokens - doc.tokens, requests: next.requests - doc.requests, version: 1 },
      $set: { updatedAt: next.updatedAt },
    });
    if (after) return after;
    doc = await loadOrCreate(buckets, tenant, key, capacity, now);
  }
  return doc; // refill deferred to a later take; the level we return is conservative
}

async function loadOrCreate(buckets: TenantCollection<BucketDoc>, tenant: string, key: string, capacity: BucketCapacity, now: number): Promise<BucketDoc> {
  const found = await buckets.findOne(tenant, { _id: key });
  if (found) return found;
  const fresh: BucketDoc = { _id: key, ...fullBucket(capacity, now), version: 0 };
  try {
    await buckets.insertOne(tenant, fresh);
    return fresh;
  } catch (error) {
    // Another replica created it first: use theirs.
    if (!hasCode(error, "CONFLICT")) throw error;
    const created = await buckets.findOne(tenant, { _id: key });
    if (!created) throw error;
    return created;
  }
}
