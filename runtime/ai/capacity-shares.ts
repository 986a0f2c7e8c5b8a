import type { Logger } from "pino";
import type { LeaseGrant } from "../../protocol/ai-capacity.ts";
import { hasCode, MeshError } from "../errors.ts";
import { callCostUsd, type AcquireRequest, type CallUsage, type Lease, type RemoteLeases } from "./lease-types.ts";
import { nextShareSize, noDemand, shouldRefresh, withCall, type Demand, type ShareLimits } from "./share-sizing.ts";

export interface CapacitySharesOptions extends ShareLimits {
  readonly idleMs: number;
  readonly callTimeoutMs: number;
  readonly log: Logger | undefined;
}

/** One granted share: a remote lease that calls are admitted from in memory. */
interface Share {
  readonly slot: Slot;
  readonly grant: LeaseGrant;
  readonly grantedAt: number;
  readonly usableUntil: number;
  remainingTokens: number;
  remainingRequests: number;
  lastAdmittedAt: number;
  inFlight: number;
  calls: number;
  promptTokens: number;
  completionTokens: number;
  /** No more admissions; settled once its last call ends. */
  retired: boolean;
  settling: boolean;
}

/** Everything held for one (tenant, service, model). */
interface Slot {
  readonly key: string;
  readonly tenant: string;
  readonly model: string;
  current: Share | undefined;
  /** The next share, asked for in the background before the current one runs out. */
  spare: Share | undefined;
  opening: Promise<Share | undefined> | undefined;
  demand: Demand;
  /** After ai-capacity refused a share: calls lease one by one until then. */
  perCallUntil: number;
}

// A share is settled while its lease is still open: no admission this close to its expiry.
const EXPIRY_MARGIN_MS = 2000;
const REFUSED_SHARE_BACKOFF_MS = 1000;

/**
 * Capacity shares as in Google's Doorman: per (tenant, service, model) the replica holds a share of the
 * tenant's buckets and a slice of its budget (one remote lease, whose reservation is that slice),
 * sized from the demand it measured and refreshed in the background before it runs out. Each
 * call is admitted in memory against what the share has left and accounted there; a share is
 * settled with its calls' totals once it is retired (used up, idle, or at its time) and its last
 * call ended. Losing this state (a crash) lets the leases expire in ai-capacity, which charges
 * their reservation: never more than a share could have spent.
 */
export class CapacityShares {
  readonly #remote: RemoteLeases;
  readonly #options: CapacitySharesOptions;
  readonly #slots = new Map<string, Slot>();
  readonly #settling = new Set<Promise<void>>();
  readonly #sweeper: NodeJS.Timeout;

  constructor(remote: RemoteLeases, options: CapacitySharesOptions) {
    this.#remote = remote;
    this.#options = options;
    this.#sweeper = setInterval(() => this.#retireStale(Date.now()), Math.max(10, Math.floor(options.idleMs / 2)));
    this.#sweeper.unref();
  }

  /** A call admitted from a share, or undefined when the call should get a lease of its own. */
  async acquire(request: AcquireRequest): Promise<Lease | undefined> {
    const key = `${request.tenant}\u0000${request.service ?? ""}\u0000${request.model}`;
    const slot = this.#slots.get(key) ?? this.#newSlot(key, request.tenant, request.model);
    if (Date.now() < slot.perCallUntil) return undefined;
    for (let round = 0; round < 3; round++) {
      const share = slot.current;
      if (share && this.#admits(share, request, Date.now())) return this.#admit(share, request);
      if (share) this.#retire(share);
      if (slot.spare) {
        slot.current = slot.spare;
        slot.spare = undefined;
        continue;
      }
      // The share asked for lands as the slot's current one (or its spare, if another call was faster).
      if (!(await (slot.opening ?? this.#open(slot, request)))) return undefined;
    }
    return undefined;
  }

  /** Settles every share now (those with calls in flight when their last call ends). */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.#slots.values()].map((slot) => slot.opening));
    for (const slot of this.#slots.values()) {
      if (slot.spare) this.#retire(slot.spare);
      if (slot.current) this.#retire(slot.current);
    }
    await Promise.all([...this.#settling]);
  }

  /**
   * Stops admitting from every share of `model` (they are settled as their calls end): after the
   * provider pushed back, the next call asks ai-capacity again, which knows the cool-down.
   */
  retireModel(model: string): void {
    for (const slot of this.#slots.values()) {
      if (slot.model !== model) continue;
      if (slot.spare) this.#retire(slot.spare);
      if (slot.current) this.#retire(slot.current);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    await this.flush();
  }

  #newSlot(key: string, tenant: string, model: string): Slot {
    const slot: Slot = { key, tenant, model, current: undefined, spare: undefined, opening: undefined, demand: noDemand(Date.now()), perCallUntil: 0 };
    this.#slots.set(key, slot);
    return slot;
  }

  /** Asks for the next share, sized from the demand since the last one; one request per slot at a time. */
  #open(slot: Slot, request: AcquireRequest): Promise<Share | undefined> {
    if (slot.opening) return slot.opening;
    const now = Date.now();
    const size = nextShareSize(slot.demand, now, request.estimatedTokens, this.#options);
    if (!size) return Promise.resolve(undefined);
    slot.demand = noDemand(now);
    const callTimeoutMs = this.#options.usableMs + this.#options.callTimeoutMs;
    // Off the caller's path: the caller's deadline and cancellation do not apply to a share.
    const opening = this.#remote.lease({ tenant: request.tenant, ...(request.service === undefined ? {} : { service: request.service }), model: request.model, estimatedTokens: size.tokens, maxAttempts: 1 }, { ...size, callTimeoutMs })
      .then((grant) => this.#place(slot, this.#track(slot, grant)), (error: unknown) => {
        // Refused (too large for the tenant's limits or budget, an unpriced model): calls lease one by one for a while.
        slot.perCallUntil = Date.now() + Math.max(REFUSED_SHARE_BACKOFF_MS, hasCode(error, "RATE_LIMITED") ? (error as MeshError).retryAfterMs ?? 0 : 0);
        if (!hasCode(error, "RATE_LIMITED") && !hasCode(error, "OVER_BUDGET")) this.#options.log?.warn({ err: error, tenant: slot.tenant }, "capacity share not granted");
        return undefined;
      })
      .finally(() => { if (slot.opening === opening) slot.opening = undefined; });
    slot.opening = opening;
    return opening;
  }

  #place(slot: Slot, share: Share): Share {
    if (!slot.current) slot.current = share;
    else if (!slot.spare) slot.spare = share;
    else this.#retire(share);
    if (!this.#slots.has(slot.key)) this.#slots.set(slot.key, slot);
    return share;
  }

  #track(slot: Slot, grant: LeaseGrant): Share {
    const now = Date.now();
    const latestUsable = grant.expiresAt - EXPIRY_MARGIN_MS - this.#options.callTimeoutMs;
    return {
      slot, grant, grantedAt: now, usableUntil: Math.min(now + this.#options.usableMs, latestUsable),
      remainingTokens: grant.grantedTokens, remainingRequests: grant.grantedRequests, lastAdmittedAt: now,
      inFlight: 0, calls: 0, promptTokens: 0, completionTokens: 0, retired: false, settling: false,
    };
  }

  #admits(share: Share, request: AcquireRequest, now: number): boolean {
    const callEnds = now + (request.callTimeoutMs ?? 0);
    return !share.retired && now < share.usableUntil && callEnds <= share.grant.expiresAt - EXPIRY_MARGIN_MS
      && share.remainingTokens >= request.estimatedTokens && share.remainingRequests >= 1;
  }

  #admit(share: Share, request: AcquireRequest): Lease {
    const tokens = request.estimatedTokens;
    const now = Date.now();
    share.remainingTokens -= tokens;
    share.remainingRequests -= 1;
    share.inFlight += 1;
    share.lastAdmittedAt = now;
    const { slot } = share;
    slot.demand = withCall(slot.demand, tokens);
    if (!slot.opening && !slot.spare && shouldRefresh({ ...share, grantedTokens: share.grant.grantedTokens, grantedRequests: share.grant.grantedRequests }, now)) void this.#open(slot, request);
    let finished = false;
    const finish = () => {
      if (finished) throw new MeshError("CONFLICT", "this lease was already settled or released");
      finished = true;
      share.inFlight -= 1;
    };
    return {
      leaseId: share.grant.leaseId, grantedTokens: tokens, expiresAt: share.grant.expiresAt, price: share.grant.price, local: true,
      settle: async (usage: CallUsage) => {
        if (!isTokenCount(usage.promptTokens) || !isTokenCount(usage.completionTokens)) {
          throw new MeshError("BAD_REQUEST", "promptTokens and completionTokens must be non-negative integers");
        }
        finish();
        share.calls += 1;
        share.promptTokens += usage.promptTokens;
        share.completionTokens += usage.completionTokens;
        share.remainingTokens += tokens - usage.promptTokens - usage.completionTokens;
        this.#settleIfDone(share);
        return { costUsd: callCostUsd(share.grant.price, usage) };
      },
      release: async () => {
        finish();
        share.remainingTokens += tokens;
        share.remainingRequests += 1;
        this.#settleIfDone(share);
      },
    };
  }

  /** Retires shares past their time or idle for `idleMs`, and prefetched ones nobody took. */
  #retireStale(now: number): void {
    const stale = (share: Share | undefined): share is Share =>
      share !== undefined && (now >= share.usableUntil || now - share.lastAdmittedAt >= this.#options.idleMs);
    for (const slot of this.#slots.values()) {
      if (stale(slot.current)) this.#retire(slot.current);
      if (stale(slot.spare)) this.#retire(slot.spare);
      if (!slot.current && !slot.spare && !slot.opening && now >= slot.perCallUntil) this.#slots.delete(slot.key);
    }
  }

  #retire(share: Share): void {
    if (share.retired) return;
    share.retired = true;
    if (share.slot.current === share) share.slot.current = undefined;
    if (share.slot.spare === share) share.slot.spare = undefined;
    this.#settleIfDone(share);
  }

  #settleIfDone(share: Share): void {
    if (!share.retired || share.inFlight > 0 || share.settling) return;
    share.settling = true;
    const { tenant } = share.slot;
    const { leaseId } = share.grant;
    const done = (share.calls === 0
      ? this.#remote.release(tenant, leaseId)
      : this.#remote.settle(tenant, leaseId, { promptTokens: share.promptTokens, completionTokens: share.completionTokens, requests: share.calls }).then(() => {})
    ).catch((error: unknown) => {
      this.#options.log?.error({ err: error, leaseId, tenant }, "settling a capacity share failed; it will expire in ai-capacity");
    }).finally(() => this.#settling.delete(done));
    this.#settling.add(done);
  }
}

const isTokenCount = (value: number) => Number.isSafeInteger(value) && value >= 0;
