/**
 * How large a capacity share to ask for, from the demand measured since the last one: pure
 * functions of the demand and an explicit clock, so the rule is tested without servers.
 */

/** Calls carved since `since` (epoch ms) and the tokens they were admitted with. */
export interface Demand {
  readonly since: number;
  readonly tokens: number;
  readonly requests: number;
}

export interface ShareLimits {
  readonly maxTokens: number;
  readonly maxRequests: number;
  /** How long calls are admitted from one share. */
  readonly usableMs: number;
}

export interface ShareSize {
  readonly tokens: number;
  readonly requests: number;
}

/** A share asks for twice the demand of its lifetime: it lasts until the next one is in hand. */
export const SHARE_HEADROOM = 2;
/** The smallest share, in calls of the size at hand: fewer is a per-call lease with extra steps. */
export const MIN_SHARE_CALLS = 4;
/** Demand is measured over at least this long, so one call does not look like a flood. */
export const MIN_DEMAND_WINDOW_MS = 1000;

export function noDemand(now: number): Demand {
  return { since: now, tokens: 0, requests: 0 };
}

export function withCall(demand: Demand, tokens: number): Demand {
  return { since: demand.since, tokens: demand.tokens + tokens, requests: demand.requests + 1 };
}

/**
 * The next share for calls of `callTokens`: the demand's rate over a share's usable time, with
 * headroom, between MIN_SHARE_CALLS such calls and the limits. Undefined when the limits cannot
 * hold MIN_SHARE_CALLS such calls: the call gets a lease of its own.
 */
export function nextShareSize(demand: Demand, now: number, callTokens: number, limits: ShareLimits): ShareSize | undefined {
  const floorTokens = callTokens * MIN_SHARE_CALLS;
  if (floorTokens > limits.maxTokens || MIN_SHARE_CALLS > limits.maxRequests) return undefined;
  const windowMs = Math.max(MIN_DEMAND_WINDOW_MS, now - demand.since);
  const expected = (amount: number) => Math.ceil((amount / windowMs) * limits.usableMs * SHARE_HEADROOM);
  return {
    tokens: Math.min(limits.maxTokens, Math.max(floorTokens, expected(demand.tokens))),
    requests: Math.min(limits.maxRequests, Math.max(MIN_SHARE_CALLS, expected(demand.requests))),
  };
}

/** Whether to ask for the next share now: half of this one is used, or half its time is gone. */
export function shouldRefresh(share: { grantedTokens: number; grantedRequests: number; remainingTokens: number; remainingRequests: number; grantedAt: number; usableUntil: number }, now: number): boolean {
  return share.remainingTokens * 2 < share.grantedTokens
    || share.remainingRequests * 2 < share.grantedRequests
    || now * 2 > share.grantedAt + share.usableUntil;
}
