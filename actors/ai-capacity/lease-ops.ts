import { MeshError } from "../../runtime/index.ts";
import { holds, refillWaitMs, type BucketAmount } from "./bucket-math.ts";
import type { PlannedBucket } from "./bucket-plan.ts";
import {
  budgetOf, bucketKeys, compact, levelOf, returnTo, setLevel, type CapacityState, type FinishedLease, type OpenLease, type Retention, type Settlement,
} from "./capacity-state.ts";
import { costNanoUsd } from "./prices.ts";

/**
 * The changes a lease goes through, as operations on a tenant's CapacityState (see
 * versioned-state.ts): each runs against the newest state and either changes it or throws.
 */

export interface GrantParams {
  readonly lease: OpenLease;
  readonly plan: readonly PlannedBucket[];
  readonly budgetLimitNanoUsd: number;
  readonly maxOpenLeases: number;
  readonly retention: Retention;
}

/** Takes the lease's tokens and requests from all its buckets and reserves its budget, or nothing at all. */
export function grant(params: GrantParams) {
  return (state: CapacityState, now: number): void => {
    const { lease, plan } = params;
    const amount: BucketAmount = { tokens: lease.tokens, requests: lease.requests };
    if (state.open.length >= params.maxOpenLeases) {
      const soonest = Math.min(...state.open.map((open) => open.expiresAt));
      throw new MeshError("RATE_LIMITED", "too many open leases for this tenant", { retryAfterMs: Math.max(1, soonest - now) });
    }
    const levels = plan.map((bucket) => levelOf(state, bucket.key, bucket.effective, now));
    const waitMs = Math.max(0, ...plan.map((bucket, index) => refillWaitMs(levels[index]!, bucket.effective, amount)));
    if (!levels.every((level) => holds(level, amount))) {
      throw new MeshError("RATE_LIMITED", "rate limit reached", { retryAfterMs: Math.max(1, waitMs) });
    }
    const committed = state.budgets.filter((budget) => budget.period === lease.period)
      .reduce((sum, budget) => sum + budget.spentNanoUsd + budget.reservedNanoUsd, 0);
    if (committed + lease.reservedNanoUsd > params.budgetLimitNanoUsd) {
      throw new MeshError("OVER_BUDGET", "the tenant's budget cannot cover this lease");
    }
    // Checked everything: from here on the operation only changes the state.
    plan.forEach((bucket, index) => {
      const level = levels[index]!;
      setLevel(state, bucket.key, { tokens: level.tokens - amount.tokens, requests: level.requests - amount.requests, updatedAt: level.updatedAt }, bucket.effective);
    });
    budgetOf(state, lease.period).reservedNanoUsd += lease.reservedNanoUsd;
    state.open.push(lease);
    compact(state, now, params.retention);
  };
}

export interface Usage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly requests: number;
}

export interface SettleOutcome {
  readonly settlement: Settlement;
  readonly alreadySettled: boolean;
}

function returnToBuckets(state: CapacityState, lease: OpenLease, amount: BucketAmount, now: number): void {
  for (const key of bucketKeys(lease)) returnTo(state, key, amount, now);
}

/**
 * An open lease is charged its cost, its reservation dropped and its unused grant returned
 * (negative when usage went past it). An expired lease was charged its whole reservation and
 * kept its grant (its outcome was unknown): the charge is corrected to the cost and the unused
 * grant returned, so the end state is the same as if it had been settled in time. A settled
 * lease answers its first settlement again; a released one cannot be settled.
 */
export function settle(leaseId: string, usage: Usage, retention: Retention, owner: string) {
  return (state: CapacityState, now: number): SettleOutcome => {
    const used = { tokens: usage.promptTokens + usage.completionTokens, requests: usage.requests };
    const index = state.open.findIndex((lease) => lease.id === leaseId);
    if (index >= 0) {
      assertOwner(state.open[index]!, owner);
      const [lease] = state.open.splice(index, 1) as [OpenLease];
      const cost = costNanoUsd(lease, usage);
      const budget = budgetOf(state, lease.period);
      budget.spentNanoUsd += cost;
      budget.reservedNanoUsd -= lease.reservedNanoUsd;
      returnToBuckets(state, lease, { tokens: lease.tokens - used.tokens, requests: lease.requests - used.requests }, now);
      const settlement: Settlement = { from: "open", costNanoUsd: cost, returnedTokens: lease.tokens - used.tokens };
      state.finished.push({ id: leaseId, state: "settled", at: now, settlement, ...ownerOf(lease) });
      compact(state, now, retention);
      return { settlement, alreadySettled: false };
    }
    const finished = findFinished(state, leaseId);
    assertOwner(finished, owner);
    if (finished.state === "settled" && finished.settlement) return { settlement: finished.settlement, alreadySettled: true };
    if (finished.state === "released" || !finished.lease) throw new MeshError("CONFLICT", "the lease was released; it cannot be settled");
    const lease = finished.lease;
    const cost = costNanoUsd(lease, usage);
    budgetOf(state, lease.period).spentNanoUsd += cost - lease.reservedNanoUsd;
    returnToBuckets(state, lease, { tokens: lease.tokens - used.tokens, requests: lease.requests - used.requests }, now);
    const settlement: Settlement = { from: "expired", costNanoUsd: cost, returnedTokens: lease.tokens - used.tokens };
    finished.state = "settled";
    finished.settlement = settlement;
    delete finished.lease;
    compact(state, now, retention);
    return { settlement, alreadySettled: false };
  };
}

/** A lease settles or releases only for the caller that took it (leases without an owner: anyone). */
function assertOwner(lease: { readonly owner?: string }, owner: string): void {
  if (lease.owner !== undefined && lease.owner !== owner) throw new MeshError("FORBIDDEN", "the lease was taken by another caller");
}

function ownerOf(lease: { readonly owner?: string }): { owner?: string } {
  return lease.owner === undefined ? {} : { owner: lease.owner };
}

function findFinished(state: CapacityState, leaseId: string): FinishedLease {
  const finished = state.finished.find((lease) => lease.id === leaseId);
  if (!finished) throw new MeshError("NOT_FOUND", "unknown lease");
  return finished;
}

function unreserve(state: CapacityState, lease: OpenLease, now: number): void {
  budgetOf(state, lease.period).reservedNanoUsd -= lease.reservedNanoUsd;
  returnToBuckets(state, lease, { tokens: lease.tokens, requests: lease.requests }, now);
}

/**
 * Returns an open lease's whole grant and reservation; an expired one (charged its reservation)
 * gets the charge back and its grant returned. False if it was already settled or released.
 * Only for the caller that took the lease.
 */
export function release(leaseId: string, retention: Retention, owner: string) {
  return (state: CapacityState, now: number): boolean => {
    const index = state.open.findIndex((lease) => lease.id === leaseId);
    if (index >= 0) {
      assertOwner(state.open[index]!, owner);
      const [lease] = state.open.splice(index, 1) as [OpenLease];
      unreserve(state, lease, now);
      state.finished.push({ id: leaseId, state: "released", at: now, ...ownerOf(lease) });
      compact(state, now, retention);
      return true;
    }
    const finished = findFinished(state, leaseId);
    assertOwner(finished, owner);
    if (finished.state !== "expired" || !finished.lease) return false;
    budgetOf(state, finished.lease.period).spentNanoUsd -= finished.lease.reservedNanoUsd;
    returnToBuckets(state, finished.lease, { tokens: finished.lease.tokens, requests: finished.lease.requests }, now);
    finished.state = "released";
    delete finished.lease;
    compact(state, now, retention);
    return true;
  };
}

/**
 * Expires every open lease past its expiry; returns their ids. Its outcome is unknown (the
 * holder may have crashed after the provider billed), so it is charged conservatively: the
 * reservation becomes spent and the grant stays taken. A settlement (or release) arriving
 * later corrects both (see settle).
 */
export function expireDue(retention: Retention) {
  return (state: CapacityState, now: number): string[] => {
    const due = state.open.filter((lease) => lease.expiresAt <= now);
    if (due.length === 0) return [];
    state.open = state.open.filter((lease) => lease.expiresAt > now);
    for (const lease of due) {
      const budget = budgetOf(state, lease.period);
      budget.reservedNanoUsd -= lease.reservedNanoUsd;
      budget.spentNanoUsd += lease.reservedNanoUsd;
      state.finished.push({ id: lease.id, state: "expired", at: now, lease, ...ownerOf(lease) });
    }
    compact(state, now, retention);
    return due.map((lease) => lease.id);
  };
}
