import type { TenantPolicy } from "../../protocol/tenants.ts";
import { refilled, type BucketAmount, type BucketCapacity, type BucketLevel } from "./bucket-math.ts";

/**
 * Everything ai-capacity knows about one tenant, kept as one versioned record: its buckets,
 * its budget periods, its open leases and the leases finished lately. One record means a lease
 * takes from all its buckets and reserves budget in one atomic step, and a lease leaves `open`
 * exactly once, whoever (settle, release, sweeper, on any replica) gets there first.
 */
export interface CapacityState {
  buckets: BucketEntry[];
  budgets: BudgetEntry[];
  open: OpenLease[];
  finished: FinishedLease[];
}

/** A bucket that is not full (a bucket with no entry is full), with the capacity it was last refilled at. */
export interface BucketEntry {
  readonly key: string;
  tokens: number;
  requests: number;
  updatedAt: number;
  tokensPerMinute: number;
  requestsPerMinute: number;
}

export interface BudgetEntry {
  readonly period: string;
  spentNanoUsd: number;
  reservedNanoUsd: number;
}

export interface OpenLease {
  readonly id: string;
  readonly service: string;
  readonly model: string;
  /** The budget period reserved in; settle charges the same one. */
  readonly period: string;
  readonly tokens: number;
  readonly requests: number;
  readonly reservedNanoUsd: number;
  /** The price at lease time, in nano-dollars per token; settle applies it. */
  readonly inputNanoUsd: number;
  readonly outputNanoUsd: number;
  readonly createdAt: number;
  readonly expiresAt: number;
  /**
   * Who took it (`ownerKey` of the server-vouched caller): only that caller may settle or release
   * it, so a lease id is not a bearer token. Absent on leases stored before owners were kept.
   */
  readonly owner?: string;
}

export interface Settlement {
  readonly from: "open" | "expired";
  readonly costNanoUsd: number;
  readonly returnedTokens: number;
}

export interface FinishedLease {
  readonly id: string;
  state: "settled" | "released" | "expired";
  readonly at: number;
  readonly owner?: string;
  /** Kept while expired: a late settle still charges what was spent. */
  lease?: OpenLease;
  settlement?: Settlement;
}

export const emptyCapacityState = (): CapacityState => ({ buckets: [], budgets: [], open: [], finished: [] });

/** The buckets of a lease: the tenant's, its service's and its model's. */
export function bucketKeys(lease: { service: string; model: string }): [string, string, string] {
  return ["tenant", `service:${lease.service}`, `model:${lease.model}`];
}

/** The bucket's level now, refilled at `capacity` (a missing bucket is full). */
export function levelOf(state: CapacityState, key: string, capacity: BucketCapacity, now: number): BucketLevel {
  const entry = state.buckets.find((bucket) => bucket.key === key);
  return entry ? refilled(entry, capacity, now) : { tokens: capacity.tokensPerMinute, requests: capacity.requestsPerMinute, updatedAt: now };
}

export function setLevel(state: CapacityState, key: string, level: BucketLevel, capacity: BucketCapacity): void {
  const entry: BucketEntry = { key, ...level, tokensPerMinute: capacity.tokensPerMinute, requestsPerMinute: capacity.requestsPerMinute };
  const index = state.buckets.findIndex((bucket) => bucket.key === key);
  if (index >= 0) state.buckets[index] = entry;
  else state.buckets.push(entry);
}

/**
 * Gives tokens back to a bucket (or, negative, takes used tokens it never granted), never past
 * the capacity the bucket was last refilled at. A missing bucket is full: nothing to give back.
 */
export function returnTo(state: CapacityState, key: string, amount: BucketAmount, now: number): void {
  const entry = state.buckets.find((bucket) => bucket.key === key);
  if (!entry) return;
  // Refill first: refill credit that a full bucket could not hold must not be granted later.
  const level = refilled(entry, entry, now);
  entry.tokens = Math.min(entry.tokensPerMinute, level.tokens + amount.tokens);
  entry.requests = Math.min(entry.requestsPerMinute, level.requests + amount.requests);
  entry.updatedAt = level.updatedAt;
}

export function budgetOf(state: CapacityState, period: string): BudgetEntry {
  let entry = state.budgets.find((budget) => budget.period === period);
  if (!entry) {
    entry = { period, spentNanoUsd: 0, reservedNanoUsd: 0 };
    state.budgets.push(entry);
  }
  return entry;
}

/** The UTC period key: "2026-11-27" for a daily budget, "2026-11" for a monthly one. */
export function periodKey(period: TenantPolicy["budget"]["period"], now: number): string {
  const iso = new Date(now).toISOString();
  return period === "day" ? iso.slice(0, 10) : iso.slice(0, 7);
}

export interface Retention {
  /** How long finished leases are remembered (repeat settles, late settles of expired leases). */
  readonly finishedMs: number;
  /** At most this many settled or released leases are remembered, and as many expired ones. */
  readonly finishedCount: number;
}

/**
 * Keeps the record small: full buckets no unsettled lease refers to, old budget periods with
 * nothing reserved, and finished leases past their retention are dropped.
 */
export function compact(state: CapacityState, now: number, retention: Retention): void {
  // Buckets of open leases and of expired ones not yet settled stay: settling may take tokens from them.
  const unsettled = [...state.open, ...state.finished.flatMap((finished) => (finished.lease ? [finished.lease] : []))];
  const inUse = new Set(unsettled.flatMap((lease) => bucketKeys(lease)));
  state.buckets = state.buckets.filter((bucket) => {
    const level = refilled(bucket, bucket, now);
    return inUse.has(bucket.key) || level.tokens < bucket.tokensPerMinute || level.requests < bucket.requestsPerMinute;
  });
  const recentPeriods = new Set(state.budgets.map((budget) => budget.period).sort().slice(-2));
  state.budgets = state.budgets.filter((budget) => budget.reservedNanoUsd !== 0 || recentPeriods.has(budget.period));
  const fresh = state.finished.filter((lease) => now - lease.at <= retention.finishedMs);
  const expired = fresh.filter((lease) => lease.state === "expired").slice(-retention.finishedCount);
  const done = fresh.filter((lease) => lease.state !== "expired").slice(-retention.finishedCount);
  state.finished = [...expired, ...done].sort((a, b) => a.at - b.at);
}
