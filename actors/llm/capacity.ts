import { setTimeout as sleep } from "node:timers/promises";
import type { z } from "zod";
import { aiCapacityContract, type LeaseGrant, type ModelPrice } from "../../protocol/ai-capacity.ts";
import type { RequestContract } from "../../protocol/contract.ts";
import { MeshError, isMeshError, type WorkContext } from "../../runtime/index.ts";

/** How long settling or releasing may take, whatever is left of the request's deadline. */
const BOOKKEEPING_TIMEOUT_MS = 5000;
const SIGNAL_TIMEOUT_MS = 2000;

function call<R extends RequestContract>(context: WorkContext, contract: R, input: z.input<R["input"]>, options: { deadline: number; maxAttempts: number }): Promise<z.output<R["output"]>> {
  return context.mesh.client.request(contract, input, {
    tenant: context.tenant,
    traceparent: context.traceparent,
    deadline: options.deadline,
    maxAttempts: options.maxAttempts,
  });
}

/** Lease attempts when ai-capacity is momentarily overloaded or unreachable. */
const LEASE_ATTEMPTS = 3;

/**
 * A lease for one call. RATE_LIMITED, OVER_BUDGET and FORBIDDEN go straight back to the caller,
 * whose own client decides about retrying (no retries stacked on retries); only OVERLOADED and
 * UNAVAILABLE, which say nothing about the tenant, are tried again here, inside the deadline.
 */
export async function leaseCapacity(context: WorkContext, request: { service: string; model: string; estimatedTokens: number }): Promise<LeaseGrant> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call(context, aiCapacityContract.requests.lease, { ...request, requests: 1 }, { deadline: context.deadline, maxAttempts: 1 });
    } catch (error) {
      const transient = isMeshError(error) && (error.code === "OVERLOADED" || error.code === "UNAVAILABLE");
      const waitMs = (isMeshError(error) ? error.retryAfterMs ?? 50 : 50) * (0.5 + Math.random() / 2);
      if (!transient || attempt >= LEASE_ATTEMPTS || Date.now() + waitMs >= context.deadline) throw error;
      await sleep(waitMs, undefined, { signal: context.signal }).catch(() => {
        throw new MeshError("TIMEOUT", "deadline exceeded while waiting for capacity");
      });
    }
  }
}

/**
 * Settles with the provider's reported usage; returns the cost ai-capacity booked. It runs on
 * its own deadline, at least BOOKKEEPING_TIMEOUT_MS (the answer exists, the books must follow),
 * and retries retryable failures. When it still fails the cost is computed from the lease's
 * prices and the lease expires in ai-capacity by itself; the failure is logged as an error.
 */
export async function settleLease(context: WorkContext, lease: LeaseGrant, usage: { promptTokens: number; completionTokens: number }, reserveMs: number): Promise<number> {
  try {
    const settled = await call(context, aiCapacityContract.requests.settle, { leaseId: lease.leaseId, ...usage, requests: 1 }, {
      deadline: Math.max(Date.now() + BOOKKEEPING_TIMEOUT_MS, context.deadline - reserveMs), maxAttempts: 3,
    });
    return settled.costUsd;
  } catch (error) {
    context.log.error({ err: isMeshError(error) ? error.message : error, leaseId: lease.leaseId }, "settling a lease failed; it will expire unsettled");
    return costFromPrice(lease.price, usage);
  }
}

/** The same arithmetic as ai-capacity's settlement: whole nano-dollars per token. */
export function costFromPrice(price: ModelPrice, usage: { promptTokens: number; completionTokens: number }): number {
  const inputNano = Math.round(price.inputPerMillion * 1000);
  const outputNano = Math.round(price.outputPerMillion * 1000);
  return (usage.promptTokens * inputNano + usage.completionTokens * outputNano) / 1e9;
}

/** Returns an unused lease's capacity and budget at once (the call failed without usage). */
export async function releaseLease(context: WorkContext, leaseId: string): Promise<void> {
  try {
    await call(context, aiCapacityContract.requests.release, { leaseId }, { deadline: Date.now() + BOOKKEEPING_TIMEOUT_MS, maxAttempts: 3 });
  } catch (error) {
    context.log.warn({ err: isMeshError(error) ? error.message : error, leaseId }, "releasing a lease failed; it will expire by itself");
  }
}

export type ProviderSignalOutcome = "ok" | "rate_limited" | "timeout" | "error";

/** Tells ai-capacity how the provider behaved. Fire and forget: it never fails or delays the request. */
export function signalProvider(context: WorkContext, signal: { model: string; outcome: ProviderSignalOutcome; latencyMs: number; retryAfterMs?: number }): void {
  call(context, aiCapacityContract.requests.signal, {
    model: signal.model,
    outcome: signal.outcome,
    latencyMs: Math.min(signal.latencyMs, 3_600_000),
    ...(signal.retryAfterMs === undefined ? {} : { retryAfterMs: Math.min(Math.ceil(signal.retryAfterMs), 3_600_000) }),
  }, { deadline: Date.now() + SIGNAL_TIMEOUT_MS, maxAttempts: 1 }).catch((error: unknown) => {
    context.log.debug({ err: isMeshError(error) ? error.message : error }, "provider signal not delivered");
  });
}
