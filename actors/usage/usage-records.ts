/** Collections of the usage actor and the shapes stored in them. */

export const USAGE_DAILY = "usage_daily";
export const APPLIED_EVENTS = "applied_events";
export const BUDGET_WARNINGS = "budget_warnings";

/** The counters of one tenant, service, model and UTC day. */
export interface UsageCounters {
  requests: number;
  promptTokens: number;
  completionTokens: number;
  /** Cost in whole nano-dollars (exact sums). */
  costNanoUsd: number;
  cacheHits: number;
  errors: number;
  rejected: number;
}

export const COUNTER_NAMES: readonly (keyof UsageCounters)[] = ["requests", "promptTokens", "completionTokens", "costNanoUsd", "cacheHits", "errors", "rejected"];

export interface BucketKey {
  day: string;
  service: string;
  model: string;
}

export interface DailyUsage extends BucketKey, Partial<UsageCounters> {
  /** Ids of events being applied right now: the guard that makes each increment happen once. */
  applying?: string[];
}

/** Memory of applied events, kept longer than any redelivery can come. */
export interface AppliedEvent extends BucketKey {
  eventId: string;
  state: "applying" | "applied";
  /** When the delivery now applying it claimed it; a claim older than ack wait + margin may be taken over. */
  claimedAt: Date;
  expiresAt: Date;
}

export interface BudgetWarningRecord {
  period: string;
  threshold: number;
  spentUsd: number;
  budgetUsd: number;
  at: Date;
  expiresAt: Date;
}
