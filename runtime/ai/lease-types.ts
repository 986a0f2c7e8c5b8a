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

export interface LeaseClientOptions {
  /** The calling service: attribution and its per-service bucket in ai-capacity. */
  readonly service: string;
  /**
   * Tokens of one remote lease that calls are carved from locally, without a round trip each.
   * 0 (the default) turns local leases off: every acquire is its own remote lease.
   */
  readonly localLeaseTokens?: number;
  /** Calls one local lease covers. Default 10. */
  readonly localLeaseRequests?: number;
  /** How long a local lease is carved from before it is settled. Default 10 s (and always before the remote lease expires). */
  readonly localLeaseMs?: number;
  /** Deadline of settle and release calls. Default 5 s. */
  readonly bookkeepingTimeoutMs?: number;
  /** Failures of background settles (local mode) are reported here; nothing is written otherwise. */
  readonly log?: Logger;
}

export interface AcquireRequest {
  readonly tenant: string;
  readonly model: string;
  /** Prompt tokens plus the call's output cap. */
  readonly estimatedTokens: number;
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
  /** The remote lease: shared by the calls carved from one local lease. */
  readonly leaseId: string;
  readonly grantedTokens: number;
  readonly expiresAt: number;
  readonly price: ModelPrice;
  readonly local: boolean;
  /** The call's cost in dollars. Local leases compute it from the lease's price and settle the aggregate later. */
  settle(usage: CallUsage): Promise<{ costUsd: number }>;
  release(): Promise<void>;
}

export interface LeaseClient {
  acquire(request: AcquireRequest): Promise<Lease>;
  /** Settles every local lease now (those with calls in flight when their last call ends). */
  flush(): Promise<void>;
  /** flush(), and no more acquires. */
  close(): Promise<void>;
}

/** Dollars for a call at a lease's price, counted in nano-dollars per token as ai-capacity does. */
export function callCostUsd(price: ModelPrice, usage: CallUsage): number {
  return protocolCallCostUsd(price, usage);
}

/** The ai-capacity calls the lease client makes (local leases draw on the same ones). */
export interface RemoteLeases {
  lease(request: AcquireRequest, tokens: number, requests: number): Promise<LeaseGrant>;
  settle(tenant: string, leaseId: string, usage: CallUsage & { requests: number }): Promise<{ costUsd: number }>;
  release(tenant: string, leaseId: string): Promise<void>;
}
