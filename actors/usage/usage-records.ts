/** Collections of the usage actor and the shapes stored in them. */

export const USAGE_RECORDS = "usage_records";
export const SPEND_CHECKPOINTS = "spend_checkpoints";
export const BUDGET_WARNINGS = "budget_warnings";

/** The counters one event adds. */
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

/**
 * One applied event, inserted once and never updated: `_id` is `${tenant}/${eventId}`, and an
 * insert refused for a duplicate `_id` is the one write FerretDB makes atomic under concurrency.
 */
export interface UsageRecord extends UsageCounters {
  _id: string;
  eventId: string;
  day: string;
  service: string;
  model: string;
  /** When this replica stored it; spend checkpoints cover records by this time. */
  appliedAt: Date;
  expiresAt: Date;
}

/** The period's spend over every record applied before `until`; immutable once written. */
export interface SpendCheckpoint {
  /** `${tenant}/${period}/${until in epoch ms}`. */
  _id: string;
  period: string;
  until: Date;
  costNanoUsd: number;
  expiresAt: Date;
}

export interface BudgetWarningRecord {
  /** `${tenant}/${period}/${threshold}`. */
  _id: string;
  period: string;
  threshold: number;
  spentUsd: number;
  budgetUsd: number;
  at: Date;
  expiresAt: Date;
}
