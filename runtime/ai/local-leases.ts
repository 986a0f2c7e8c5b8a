import type { Logger } from "pino";
import type { LeaseGrant } from "../../protocol/ai-capacity.ts";
import { hasCode, MeshError } from "../errors.ts";
import { callCostUsd, type AcquireRequest, type CallUsage, type Lease, type RemoteLeases } from "./lease-types.ts";

export interface LocalLeaseOptions {
  readonly tokens: number;
  readonly requests: number;
  readonly usableMs: number;
  readonly log: Logger | undefined;
}

/** One remote lease per (tenant, model) that calls are carved from. */
interface Pool {
  readonly key: string;
  readonly tenant: string;
  readonly grant: LeaseGrant;
  remainingTokens: number;
  remainingRequests: number;
  inFlight: number;
  calls: number;
  promptTokens: number;
  completionTokens: number;
  /** No more carving; settled once its last call ends. */
  retired: boolean;
  finishing: boolean;
  readonly usableUntil: number;
  timer: NodeJS.Timeout | undefined;
}

const isTokenCount = (value: number) => Number.isSafeInteger(value) && value >= 0;

// The remote lease must be settled while still open: stop carving this long before it expires.
const EXPIRY_MARGIN_MS = 2000;

/**
 * Carves calls out of a larger remote lease without a round trip each. A local lease is
 * retired when it cannot cover the next call, has served its calls or reaches its time; when
 * its last call ends it is settled with the totals of its calls (or released if none was made),
 * which returns what it did not use. This is the only state the client keeps, and it is only
 * a cache of capacity: losing it (a crash) just lets the remote lease expire.
 */
export class LocalLeases {
  readonly #remote: RemoteLeases;
  readonly #options: LocalLeaseOptions;
  readonly #pools = new Map<string, Pool>();
  readonly #opening = new Map<string, Promise<Pool | undefined>>();
  readonly #finishing = new Set<Promise<void>>();

  constructor(remote: RemoteLeases, options: LocalLeaseOptions) {
    this.#remote = remote;
    this.#options = options;
  }

  /** A carved lease, or undefined when the call should get a remote lease of its own. */
  async acquire(request: AcquireRequest): Promise<Lease | undefined> {
    if (request.estimatedTokens > this.#options.tokens) return undefined;
    const key = `${request.tenant}\u0000${request.model}`;
    for (let round = 0; round < 3; round++) {
      const pool = this.#pools.get(key) ?? (await this.#open(key, request));
      if (!pool) return undefined;
      if (this.#canCarve(pool, request.estimatedTokens)) return this.#carve(pool, request.estimatedTokens);
      this.#retire(pool);
    }
    return undefined;
  }

  async flush(): Promise<void> {
    await Promise.allSettled([...this.#opening.values()]);
    for (const pool of [...this.#pools.values()]) this.#retire(pool);
    await Promise.all([...this.#finishing]);
  }

  /** Concurrent acquires for the same key share one remote lease request. */
  #open(key: string, request: AcquireRequest): Promise<Pool | undefined> {
    let opening = this.#opening.get(key);
    if (!opening) {
      opening = this.#remote.lease(request, this.#options.tokens, this.#options.requests).then(
        (grant) => this.#track(key, request.tenant, grant),
        (error: unknown) => {
          // The larger lease may not fit where one call still does: that call asks for itself.
          if (hasCode(error, "RATE_LIMITED") || hasCode(error, "OVER_BUDGET")) return undefined;
          throw error;
        },
      ).finally(() => this.#opening.delete(key));
      this.#opening.set(key, opening);
    }
    return opening;
  }

  #track(key: string, tenant: string, grant: LeaseGrant): Pool {
    const now = Date.now();
    const margin = Math.min(EXPIRY_MARGIN_MS, (grant.expiresAt - now) / 4);
    const pool: Pool = {
      key, tenant, grant,
      remainingTokens: grant.grantedTokens, remainingRequests: grant.grantedRequests,
      inFlight: 0, calls: 0, promptTokens: 0, completionTokens: 0, retired: false, finishing: false,
      usableUntil: Math.min(now + this.#options.usableMs, grant.expiresAt - margin), timer: undefined,
    };
    pool.timer = setTimeout(() => this.#retire(pool), Math.max(0, pool.usableUntil - now));
    pool.timer.unref();
    this.#pools.set(key, pool);
    return pool;
  }

  #canCarve(pool: Pool, tokens: number): boolean {
    return !pool.retired && Date.now() < pool.usableUntil && pool.remainingTokens >= tokens && pool.remainingRequests >= 1;
  }

  #carve(pool: Pool, tokens: number): Lease {
    pool.remainingTokens -= tokens;
    pool.remainingRequests -= 1;
    pool.inFlight += 1;
    if (pool.remainingRequests === 0) this.#retire(pool);
    let finished = false;
    const finish = () => {
      if (finished) throw new MeshError("CONFLICT", "this lease was already settled or released");
      finished = true;
      pool.inFlight -= 1;
    };
    return {
      leaseId: pool.grant.leaseId, grantedTokens: tokens, expiresAt: pool.grant.expiresAt, price: pool.grant.price, local: true,
      settle: async (usage: CallUsage) => {
        if (!isTokenCount(usage.promptTokens) || !isTokenCount(usage.completionTokens)) {
          throw new MeshError("BAD_REQUEST", "promptTokens and completionTokens must be non-negative integers");
        }
        finish();
        pool.calls += 1;
        pool.promptTokens += usage.promptTokens;
        pool.completionTokens += usage.completionTokens;
        pool.remainingTokens += tokens - usage.promptTokens - usage.completionTokens;
        this.#finishIfDone(pool);
        return { costUsd: callCostUsd(pool.grant.price, usage) };
      },
      release: async () => {
        finish();
        pool.remainingTokens += tokens;
        pool.remainingRequests += 1;
        this.#finishIfDone(pool);
      },
    };
  }

  #retire(pool: Pool): void {
    if (pool.retired) return;
    pool.retired = true;
    clearTimeout(pool.timer);
    if (this.#pools.get(pool.key) === pool) this.#pools.delete(pool.key);
    this.#finishIfDone(pool);
  }

  #finishIfDone(pool: Pool): void {
    if (!pool.retired || pool.inFlight > 0 || pool.finishing) return;
    pool.finishing = true;
    const { tenant, grant } = pool;
    const done = (pool.calls === 0
      ? this.#remote.release(tenant, grant.leaseId)
      : this.#remote.settle(tenant, grant.leaseId, { promptTokens: pool.promptTokens, completionTokens: pool.completionTokens, requests: pool.calls }).then(() => {})
    ).catch((error: unknown) => {
      this.#options.log?.error({ err: error, leaseId: grant.leaseId, tenant }, "settling a local lease failed; it will expire in ai-capacity");
    }).finally(() => this.#finishing.delete(done));
    this.#finishing.add(done);
  }
}
