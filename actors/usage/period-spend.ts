import { hasCode, type WorkContext } from "../../runtime/index.ts";
import { daysOfPeriod } from "./days.ts";
import { SPEND_CHECKPOINTS, USAGE_RECORDS, type SpendCheckpoint, type UsageRecord } from "./usage-records.ts";

const CHECKPOINT_TTL_MS = 62 * 86_400_000;

export interface CheckpointRules {
  /** A checkpoint older than this is advanced. */
  readonly everyMs: number;
  /** Records applied within this much of now are never folded into a checkpoint (they may still be arriving). */
  readonly safetyMs: number;
}

/**
 * A tenant's spend in one budget period, in nano-dollars, without summing the whole period on
 * every event: the latest checkpoint (the sum over records applied before its `until`) plus the
 * records applied since. Checkpoints are immutable inserts, so replicas advancing one at the
 * same moment each write a correct one and no update can be lost.
 */
export async function periodSpendNanoUsd(context: WorkContext, period: string, rules: CheckpointRules): Promise<number> {
  const checkpoints = context.store.collection<SpendCheckpoint>(SPEND_CHECKPOINTS);
  const [latest] = await checkpoints.find(context.tenant, { period }, { sort: { until: -1 }, limit: 1 });
  const base = latest ?? { until: new Date(0), costNanoUsd: 0 };
  const now = Date.now();
  const foldUntil = new Date(now - rules.safetyMs);
  if (now - base.until.getTime() < rules.everyMs || foldUntil <= base.until) {
    return base.costNanoUsd + (await costSince(context, period, base.until));
  }
  const folded = base.costNanoUsd + (await costSince(context, period, base.until, foldUntil));
  try {
    await checkpoints.insertOne(context.tenant, { _id: `${context.tenant}/${period}/${foldUntil.getTime()}`, period, until: foldUntil, costNanoUsd: folded, expiresAt: new Date(now + CHECKPOINT_TTL_MS) });
  } catch (error) {
    // Another replica wrote the same checkpoint: it holds the same sum.
    if (!hasCode(error, "CONFLICT")) throw error;
  }
  return folded + (await costSince(context, period, foldUntil));
}

async function costSince(context: WorkContext, period: string, from: Date, until?: Date): Promise<number> {
  const { first, last } = daysOfPeriod(period);
  const appliedAt = until === undefined ? { $gte: from } : { $gte: from, $lt: until };
  // One accumulator per $group: FerretDB computes only the first one.
  const [sum] = await context.store.collection<UsageRecord>(USAGE_RECORDS).aggregate<{ cost: number }>(context.tenant, [
    { $match: { day: { $gte: first, $lte: last }, appliedAt, costNanoUsd: { $gt: 0 } } },
    { $group: { _id: null, cost: { $sum: "$costNanoUsd" } } },
  ]);
  return sum?.cost ?? 0;
}
