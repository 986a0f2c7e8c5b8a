/**
 * Collections of the usage actor, the keys of their documents and the shapes stored under them.
 * Every key is computed from what a handler knows (tenant, day, event id, slot number), so every
 * read is a point read by `_id` (the store prefixes keys with `<tenant>/`): no read scans, on
 * FerretDB or MongoDB, however much history is stored.
 */
import type { UsageCell, UsageCounters } from "./usage-cells.ts";

/** One claim per applied event: which batch counted it. The per-event record; expires by the tenant's retention. */
export const USAGE_EVENTS = "usage_events";
/** The day ledgers: numbered slots (one committed batch each) and batch aborts. Unique by `batch`. */
export const USAGE_SLOTS = "usage_slots";
/** Head hints of the day ledgers: the last slot a writer knew of. */
export const USAGE_HEADS = "usage_heads";
export const BUDGET_WARNINGS = "budget_warnings";

const pad = (n: number) => String(n).padStart(9, "0");

export const keys = {
  /** The event's claim of generation `generation` (a new generation only after the previous claim's batch was aborted). */
  claim: (eventId: string, generation: number) => (generation === 1 ? `e/${eventId}` : `e/${eventId}/${generation}`),
  slot: (day: string, n: number) => `${day}/s/${pad(n)}`,
  abort: (batch: string) => `abort/${batch}`,
  head: (day: string) => `${day}/head`,
  warning: (period: string, threshold: number) => `${period}/${threshold}`,
};

export interface EventClaim extends UsageCounters {
  /** The batch that claimed the event; the event counts iff that batch committed. */
  batch: string;
  day: string;
  service: string;
  model: string;
  at: Date;
  expiresAt: Date;
}

/**
 * Slot `n` of a tenant's day: one committed batch, with the day's running total through it.
 * Slots are numbered without gaps (a writer takes `n` only after finding `n - 1` taken, and adds
 * to its total), never change, and the unique index on `batch` lets a batch commit once, and
 * never after it was aborted.
 */
export interface UsageSlot {
  batch: string;
  day: string;
  n: number;
  /** The batch's own cells. */
  added: UsageCell[];
  /** Slot n - 1's total plus `added` (new services past the day's bound counted as `(other services)`, see `addToDay`): the day through this batch. */
  cells: UsageCell[];
  expiresAt: Date;
}

/** Written in place of a slot to abort an undecided batch: it holds the batch's unique value, so the batch can no longer commit. */
export interface BatchAbort {
  batch: string;
  aborted: true;
  expiresAt: Date;
}

/** A hint, written last-writer-wins after each commit: a slot known to exist. Readers probe past it. */
export interface LedgerHead {
  day: string;
  slot: number;
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
