import type { z } from "zod";
import { aiCapacityContract, type LeaseGrant, type ModelPrice } from "../../protocol/ai-capacity.ts";
import type { RequestContract } from "../../protocol/contract.ts";
import { llmContract } from "../../protocol/llm.ts";
import { callCostUsd } from "../../protocol/money.ts";
import { hasCode, isMeshError, retryWithin, type WorkContext } from "../../runtime/index.ts";
import { publishDurably } from "./durable-publish.ts";

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
 * `callTimeoutMs` is the provider call's time budget: the lease lives at least that long.
 */
export async function leaseCapacity(
  context: WorkContext, request: { service: string; model: string; estimatedTokens: number; callTimeoutMs: number },
): Promise<LeaseGrant> {
  const transient = (error: unknown) => hasCode(error, "OVERLOADED") || hasCode(error, "UNAVAILABLE");
  return retryWithin(
    () => call(context, aiCapacityContract.requests.lease, { ...request, requests: 1 }, { deadline: context.deadline, maxAttempts: 1 }),
    { maxAttempts: LEASE_ATTEMPTS, retryOn: transient, deadline: context.deadline, signal: context.signal },
  );
}

/**
 * Settles the lease through a durable event (`events.llm.settlement`, event id
 * `settle-<leaseId>`), which ai-capacity consumes and applies once; returns the cost with
 * ai-capacity's arithmetic at the lease's price. A failed call settles with zero usage (zero
 * requests), which gives the whole grant and reservation back. If neither JetStream nor the
 * outbox takes the event, the lease expires and is charged its reservation: an answer the
 * provider billed is still given (logged as an error), never lost.
 */
export async function settleLease(
  context: WorkContext, lease: LeaseGrant, usage: { promptTokens: number; completionTokens: number; requests: number }, retryForMs: number,
): Promise<number> {
  const settlement = { tenant: context.tenant, leaseId: lease.leaseId, ...usage };
  try {
    await publishDurably(context, llmContract.events.settlement, settlement, `settle-${lease.leaseId}`, retryForMs);
  } catch (error) {
    context.log.error({ err: isMeshError(error) ? error.message : error, leaseId: lease.leaseId },
      "settlement neither published nor stored; the lease will be charged its reservation when it expires");
  }
  return costFromPrice(lease.price, usage);
}

/** The same arithmetic as ai-capacity's settlement: whole nano-dollars per token. */
export function costFromPrice(price: ModelPrice, usage: { promptTokens: number; completionTokens: number }): number {
  return callCostUsd(price, usage);
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
