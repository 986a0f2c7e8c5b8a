import type { TenantPolicy } from "../../protocol/tenants.ts";
import { MeshError, type WorkContext } from "../../runtime/index.ts";
import type { Lease } from "../../runtime/ai/lease-client.ts";
import type { CallCapacity } from "./capacity.ts";
import type { LlmConfig } from "./config.ts";
import type { ModelCircuit, ProviderBreakers } from "./provider-breakers.ts";
import type { ProviderFailure } from "./provider-errors.ts";
import type { CallLog } from "./call-log.ts";
import { callRecord } from "./records.ts";

/** A provider call shorter than this is not worth admitting. */
export const MIN_CALL_MS = 100;

export interface AccountingServices {
  readonly config: LlmConfig;
  readonly breakers: ProviderBreakers;
  readonly capacity: CallCapacity;
  /** Set once the replica is connected (onStart). */
  readonly callLog: Pick<CallLog, "add">;
}

/** What one provider call is admitted for (the request already passed policy: see request-admission.ts). */
export interface CallToAdmit {
  readonly service: string;
  readonly model: string;
  readonly promptTokens: number;
  /** The output cap: prompt + this is reserved, so usage can never outgrow the reservation. */
  readonly maxTokens: number;
}

/** An admitted call: the capacity it holds, its circuit and its time budget. Settle it exactly once. */
export interface AdmittedCall {
  readonly model: string;
  readonly lease: Lease;
  readonly circuit: ModelCircuit;
  /** The provider call's timeout. */
  readonly timeoutMs: number;
  /** The timeout is the caller's deadline, not LLM_TIMEOUT_MS: ending there is not the provider's failure. */
  readonly timeoutIsCallers: boolean;
}

/** Time the provider call may take: the configured timeout, cut to what the deadline leaves. */
export function callBudgetMs(config: LlmConfig, deadline: number): number {
  return Math.min(config.timeoutMs, deadline - Date.now() - config.deadlineReserveMs);
}

/**
 * The admission seam (shared by `llm.complete` and streaming): circuit, time left, then capacity
 * (from the replica's share in memory, or a lease of its own). A refused admission throws its
 * typed error (`RATE_LIMITED`, `OVER_BUDGET`, `FORBIDDEN`, `TIMEOUT`); an open circuit comes back
 * as a failure value for the caller to degrade on.
 */
export async function admitCall(services: AccountingServices, context: WorkContext, call: CallToAdmit): Promise<AdmittedCall | { failure: ProviderFailure }> {
  // Only a model ai-capacity has leased (a priced one) gets a circuit: caller-chosen names create nothing.
  const known = services.breakers.existing(call.model);
  if (known?.isOpen()) return { failure: { kind: "circuit_open", retryAfterMs: known.untilHalfOpen() } };
  if (callBudgetMs(services.config, context.deadline) < MIN_CALL_MS) {
    throw new MeshError("TIMEOUT", "too little time left before the deadline for a provider call");
  }
  // The lease lives as long as the longest call it admits (the budget only shrinks from here).
  const callTimeoutMs = Math.ceil(callBudgetMs(services.config, context.deadline));
  const lease = await services.capacity.admit(context, { service: call.service, model: call.model, estimatedTokens: call.promptTokens + call.maxTokens, callTimeoutMs });
  // Admission may have taken a round trip: measure again.
  const budgetMs = callBudgetMs(services.config, context.deadline);
  return {
    model: call.model, lease, circuit: known ?? services.breakers.forModel(call.model),
    timeoutMs: Math.max(1, budgetMs), timeoutIsCallers: budgetMs < services.config.timeoutMs,
  };
}

export interface CallOutcome {
  /** What the provider billed; undefined when the call failed without usage (nothing billed). */
  readonly usage: { promptTokens: number; completionTokens: number } | undefined;
  readonly latencyMs: number;
  readonly errorCode?: string;
}

/**
 * The settlement seam: the call's usage goes into its lease (in memory for a share, settled with
 * the share's totals later; a lease of its own is settled now), durably either way (an
 * `events.llm.settlement` event, see capacity.ts); a call without usage gives its capacity back.
 * The call record joins the replica's next batch (call-log.ts). Returns the call's cost at the lease's price.
 */
export async function settleCall(
  services: AccountingServices, context: WorkContext, admitted: AdmittedCall, outcome: CallOutcome,
  record: { policy: TenantPolicy; requestHash: string; service: string; fallback: boolean },
): Promise<number> {
  const usage = outcome.usage ?? { promptTokens: 0, completionTokens: 0 };
  let costUsd = 0;
  if (outcome.usage) costUsd = (await admitted.lease.settle(outcome.usage)).costUsd;
  else await admitted.lease.release();
  // After the accounting: a full call log may make the reply wait for its record, never the settlement.
  await services.callLog.add(context.tenant, callRecord(record.policy, {
    requestHash: record.requestHash, service: record.service, model: admitted.model, latencyMs: outcome.latencyMs, fallback: record.fallback, ...usage,
    outcome: outcome.usage ? "ok" : "error", ...(outcome.errorCode === undefined ? {} : { errorCode: outcome.errorCode }),
  }));
  return costUsd;
}
