import type { Logger } from "pino";
import type { z } from "zod";
import type { LeaseGrant, ModelPrice } from "../../protocol/ai-capacity.ts";
import type { RequestContract } from "../../protocol/contract.ts";
import { callCostUsd as protocolCallCostUsd } from "../../protocol/money.ts";
import type { CallOptions } from "../client/mesh-client.ts";

/** The part of a MeshClient the lease client uses (any MeshClient is one). */
export interface LeaseTransport {
  request<R extends RequestContract>(contract: R, input: z.input<R["input"]>, options?: CallOptions): Promise<z.output<R["output"]>>;
}

/**
 * Where settlements go. Given, every settle and release (and every share's aggregate) is handed
 * to it, e.g. a durable event publish; without it they are `ai-capacity.settle`/`release`
 * requests. A release is a settlement of zero tokens and zero requests (ai-capacity gives the
 * whole grant and reservation back). It must not throw for a settlement it could not deliver:
 * the lease then expires and is charged its reservation.
 */
export type SettlementSink = (tenant: string, leaseId: string, usage: CallUsage & { requests: number }) => Promise<void>;

/** Capacity shares (Doorman's model): per tenant and model, calls are admitted in memory from a larger lease. */
export interface ShareOptions {
  /** The largest share asked for, in tokens. A call that 4 such calls would not hold gets a lease of its own. */
  readonly maxTokens: number;
  /** The most calls one share covers (at most 1000). Default 200. */
  readonly maxRequests?: number;
  /** How long calls are admitted from one share. Default 5 s. */
  readonly usableMs?: number;
  /** A share with no call admitted for this long is settled, so idle capacity goes back. Default 1 s. */
  readonly idleMs?: number;
  /** The longest call admitted: a share lives `usableMs` + this + ai-capacity's settle grace. */
  readonly callTimeoutMs: number;
}

export interface LeaseClientOptions {
  /** The calling service: attribution and its per-service bucket in ai-capacity. */
  readonly service: string;
  /** Turns capacity shares on (off by default: every acquire is its own remote lease). */
  readonly shares?: ShareOptions;
  /** Where settlements go (default: ai-capacity's settle and release requests). */
  readonly settlements?: SettlementSink;
  /**
   * How long ai-capacity's OVER_BUDGET or RATE_LIMITED answer to a call is repeated here for calls
   * of the same tenant, service and model at least as large, without asking it (RATE_LIMITED never
   * past its retry time; see refusal-memory.ts). Default 500 ms; 0 asks every time.
   */
  readonly refusalHoldMs?: number;
  /** Deadline of share, settle and release calls made off a caller's path. Default 5 s. */
  readonly bookkeepingTimeoutMs?: number;
  /** Failures in the background (share refreshes, settlements) are reported here; nothing is written otherwise. */
  readonly log?: Logger;
}

export interface AcquireRequest {
  readonly tenant: string;
  /** The service the call is for, when the client serves several (default: the client's `service`). */
  readonly service?: string;
  readonly model: string;
  /** Prompt tokens plus the call's output cap. */
  readonly estimatedTokens: number;
  /** The longest the call may take (the lease outlives it). Default: ai-capacity's grace alone. */
  readonly callTimeoutMs?: number;
  /** Absolute deadline (epoch ms) for getting the lease. */
  readonly deadline?: number;
  readonly traceparent?: string;
  readonly signal?: AbortSignal;
  /** Attempts on RATE_LIMITED and other retryable answers, including the first. Default from the MeshClient. */
  readonly maxAttempts?: number;
}

export interface CallUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
}

/** Capacity for one call. Settle it with the provider's usage, or release it if the call was not made. */
export interface Lease {
  /** The remote lease: shared by the calls admitted from one share. */
  readonly leaseId: string;
  readonly grantedTokens: number;
  readonly expiresAt: number;
  readonly price: ModelPrice;
  readonly local: boolean;
  /** The call's cost in dollars, from the lease's price. A share's calls are settled together later. */
  settle(usage: CallUsage): Promise<{ costUsd: number }>;
  release(): Promise<void>;
}

export interface LeaseClient {
  acquire(request: AcquireRequest): Promise<Lease>;
  /** Settles every share now (those with calls in flight when their last call ends). */
  flush(): Promise<void>;
  /** Stops admitting calls of `model` from shares (e.g. after the provider rate limited it). */
  retireShares(model: string): void;
  /** flush(), and no more acquires. */
  close(): Promise<void>;
}

/** Dollars for a call at a lease's price, counted in nano-dollars per token as ai-capacity does. */
export function callCostUsd(price: ModelPrice, usage: CallUsage): number {
  return protocolCallCostUsd(price, usage);
}

/** The ai-capacity calls the lease client makes (shares draw on the same ones). */
export interface RemoteLeases {
  lease(request: AcquireRequest, amount: { tokens: number; requests: number; callTimeoutMs?: number }): Promise<LeaseGrant>;
  settle(tenant: string, leaseId: string, usage: CallUsage & { requests: number }): Promise<unknown>;
  release(tenant: string, leaseId: string): Promise<void>;
}
