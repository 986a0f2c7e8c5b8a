import type { UsageEvent } from "../../protocol/llm.ts";
import { hasCode, type ActorStore } from "../../runtime/index.ts";
import { toNanoUsd, utcDay } from "./days.ts";
import { USAGE_RECORDS, type UsageCounters, type UsageRecord } from "./usage-records.ts";

const DAY_MS = 86_400_000;

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

/**
 * Applies one event exactly once: a single insert whose `_id` is the tenant and event id. A redelivery,
 * after a crash at any point or while another delivery runs, hits the unique index and
 * changes nothing (the duplicate `_id` is refused). There is no second write, so there is no window to crash in.
 * Returns false when the event had been applied before.
 */
export async function applyUsageEvent(store: ActorStore, tenant: string, eventId: string, event: UsageEvent, retentionDays: number): Promise<boolean> {
  const appliedAt = new Date();
  const record: UsageRecord = {
    _id: `${tenant}/${eventId}`,
    eventId,
    day: utcDay(event.at),
    service: event.service,
    model: event.model,
    ...countersOf(event),
    appliedAt,
    expiresAt: new Date(Date.parse(event.at) + retentionDays * DAY_MS),
  };
  try {
    await store.collection<UsageRecord>(USAGE_RECORDS).insertOne(tenant, record);
    return true;
  } catch (error) {
    if (hasCode(error, "CONFLICT")) return false;
    throw error;
  }
}
