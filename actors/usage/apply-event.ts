import type { UsageEvent } from "../../protocol/llm.ts";
import { MeshError, isMeshError, type ActorStore, type TenantCollection } from "../../runtime/index.ts";
import { toNanoUsd, utcDay } from "./days.ts";
import { APPLIED_EVENTS, USAGE_DAILY, type AppliedEvent, type BucketKey, type DailyUsage, type UsageCounters } from "./usage-records.ts";

const BUCKET_ATTEMPTS = 4;

export interface ApplyTiming {
  /** A claim is the claimer's to use for this long (the consumer's ack wait). */
  readonly claimMs: number;
  /** Then this much longer before another delivery may take it over. */
  readonly claimMarginMs: number;
  /** How long the applied event's id is remembered. */
  readonly memoryTtlMs: number;
}

export function countersOf(event: UsageEvent): UsageCounters {
  return {
    requests: 1,
    promptTokens: event.promptTokens,
    completionTokens: event.completionTokens,
    costNanoUsd: toNanoUsd(event.costUsd),
    cacheHits: event.cacheHit ? 1 : 0,
    errors: event.outcome === "error" ? 1 : 0,
    rejected: event.outcome === "rejected" ? 1 : 0,
  };
}

export function bucketOf(event: UsageEvent): BucketKey {
  return { day: utcDay(event.at), service: event.service, model: event.model };
}

const isConflict = (error: unknown) => isMeshError(error) && error.code === "CONFLICT";

/**
 * Adds one event to its daily bucket exactly once, also when it is redelivered after a crash
 * at any point or delivered twice at once, with single-document atomic writes only:
 *
 * 1. claim: insert `applied_events` {eventId, state: applying, claimedAt}. A duplicate means
 *    another delivery got here: done if it reached `applied`; wait (retryable error) while its
 *    claim is fresh; take the claim over once it is stale (that delivery crashed or stalled);
 * 2. `$inc` the bucket and `$push` the id into its `applying` list in one update whose filter
 *    says `applying` lacks the id, so the increment and its guard are one atomic write; it runs
 *    only while the claim is fresh, so no stale delivery can increment after step 4;
 * 3. mark the event `applied` (remembered for `memoryTtlMs`, longer than any redelivery);
 * 4. `$pull` the id from `applying`, which so stays as short as the work in flight.
 *
 * Returns false when the event had been applied before.
 */
export async function applyUsageEvent(store: ActorStore, tenant: string, eventId: string, event: UsageEvent, timing: ApplyTiming): Promise<boolean> {
  const ledger = store.collection<AppliedEvent>(APPLIED_EVENTS);
  const daily = store.collection<DailyUsage>(USAGE_DAILY);
  const bucket = bucketOf(event);
  const claimedAt = new Date();
  try {
    await ledger.insertOne(tenant, { eventId, ...bucket, state: "applying", claimedAt, expiresAt: new Date(claimedAt.getTime() + timing.memoryTtlMs) });
  } catch (error) {
    if (!isConflict(error)) throw error;
    const outcome = await takeOverClaim(ledger, tenant, eventId, claimedAt, timing);
    if (outcome === "applied") {
      // A crash may have come between steps 3 and 4.
      await daily.updateOne(tenant, bucket, { $pull: { applying: eventId } });
      return false;
    }
  }
  if (Date.now() >= claimedAt.getTime() + timing.claimMs) {
    throw new MeshError("UNAVAILABLE", "usage event claim expired before it was applied", { retryAfterMs: timing.claimMarginMs });
  }
  await incrementOnce(daily, tenant, bucket, eventId, countersOf(event));
  await ledger.updateOne(tenant, { eventId }, { $set: { state: "applied" } });
  await daily.updateOne(tenant, bucket, { $pull: { applying: eventId } });
  return true;
}

async function takeOverClaim(ledger: TenantCollection<AppliedEvent>, tenant: string, eventId: string, now: Date, timing: ApplyTiming): Promise<"applied" | "claimed"> {
  const earlier = await ledger.findOne(tenant, { eventId });
  // Not found although the insert collided: its memory expired, so it was applied long ago.
  if (earlier === null || earlier.state === "applied") return "applied";
  const staleBefore = new Date(now.getTime() - timing.claimMs - timing.claimMarginMs);
  const claimed = await ledger.findOneAndUpdate(tenant, { eventId, state: "applying", claimedAt: { $lt: staleBefore } }, { $set: { claimedAt: now } });
  if (claimed) return "claimed";
  const current = await ledger.findOne(tenant, { eventId });
  if (current === null || current.state === "applied") return "applied";
  const retryAfterMs = Math.max(100, current.claimedAt.getTime() + timing.claimMs + timing.claimMarginMs - now.getTime());
  throw new MeshError("UNAVAILABLE", "usage event is being applied by another delivery", { retryAfterMs });
}

async function incrementOnce(daily: TenantCollection<DailyUsage>, tenant: string, bucket: BucketKey, eventId: string, counters: UsageCounters): Promise<void> {
  for (let attempt = 1; attempt <= BUCKET_ATTEMPTS; attempt++) {
    try {
      await daily.updateOne(tenant, { ...bucket, applying: { $ne: eventId } }, { $inc: counters, $push: { applying: eventId } }, { upsert: true });
      return;
    } catch (error) {
      if (!isConflict(error)) throw error;
      // The unique bucket key refused an insert: either this event is in it already (an earlier
      // delivery incremented), or another event created the bucket a moment ago (update now).
      if (await daily.findOne(tenant, { ...bucket, applying: eventId })) return;
    }
  }
  throw new MeshError("UNAVAILABLE", "usage bucket busy", { retryAfterMs: 100 });
}
