import { aiCapacityContract } from "../../protocol/ai-capacity.ts";
import { llmContract } from "../../protocol/llm.ts";
import { createLeaseClient, type Lease } from "../../runtime/ai/lease-client.ts";
import { MeshError, hasCode, isMeshError, retryWithin, type StartContext, type WorkContext } from "../../runtime/index.ts";
import { MIN_CALL_MS } from "./call-accounting.ts";
import type { LlmConfig } from "./config.ts";
import { publishDurablyForTenant } from "./durable-publish.ts";

const SIGNAL_TIMEOUT_MS = 2000;
/** Lease attempts when ai-capacity is unreachable; OVERLOADED is tried again until the call's deadline. */
const LEASE_ATTEMPTS_UNAVAILABLE = 3;
/** The longest wait between lease attempts while ai-capacity sheds load. */
const LEASE_MAX_WAIT_MS = 1000;
/** `ok` signals only feed recovery, at most one step a second there: one per model this often is plenty. */
const OK_SIGNAL_INTERVAL_MS = 250;

export type ProviderSignalOutcome = "ok" | "rate_limited" | "timeout" | "error";

export interface CallCapacity {
  /** Capacity for one call: admitted from this replica's share, or a lease of its own (see README, "Capacity shares"). */
  admit(context: WorkContext, call: { service: string; model: string; estimatedTokens: number; callTimeoutMs: number }): Promise<Lease>;
  /** Tells ai-capacity how the provider behaved. Fire and forget: it never fails or delays the request. */
  signal(context: WorkContext, signal: { model: string; outcome: ProviderSignalOutcome; latencyMs: number; retryAfterMs?: number }): void;
  /** Settles every share (graceful stop). */
  close(): Promise<void>;
}

/**
 * The replica's capacity through runtime/ai's lease client, the one client of ai-capacity: with
 * shares on (`LLM_SHARE_MAX_TOKENS` > 0) calls are admitted in memory from shares refreshed in
 * the background; every settlement (a share's totals, or one call's) travels durably as
 * `events.llm.settlement` (event id `settle-<leaseId>`), which ai-capacity applies once.
 */
export function startCallCapacity(start: StartContext, config: LlmConfig): CallCapacity {
  const leases = createLeaseClient(start.mesh, {
    service: "unknown",
    refusalHoldMs: config.refusalHoldMs,
    ...(config.shareMaxTokens > 0 ? {
      shares: { maxTokens: config.shareMaxTokens, maxRequests: config.shareMaxRequests, usableMs: config.shareUsableMs, idleMs: config.shareIdleMs, callTimeoutMs: config.timeoutMs },
    } : {}),
    settlements: async (tenant, leaseId, usage) => {
      try {
        await publishDurablyForTenant(start, tenant, llmContract.events.settlement, { tenant, leaseId, ...usage }, `settle-${leaseId}`, config.publishRetryMs);
      } catch (error) {
        start.log.error({ err: isMeshError(error) ? error.message : error, leaseId, tenant },
          "settlement neither published nor stored; the lease will be charged its reservation when it expires");
      }
    },
    log: start.log,
  });
  const lastOkSignal = new Map<string, number>();

  return {
    admit(context, call) {
      // Only OVERLOADED and UNAVAILABLE, which say nothing about the tenant, are tried again here;
      // RATE_LIMITED, OVER_BUDGET and FORBIDDEN go back to the caller (no retries stacked on retries).
      // OVERLOADED is ai-capacity shedding load (every refused call asks it, and this replica may
      // hold more calls than ai-capacity's replicas take at once): the call waits its turn within
      // its deadline, with growing waits, rather than failing a caller whose tenant is in order.
      // It stops waiting while the provider call would still have its least time: past that, the
      // caller gets OVERLOADED (nothing ran) rather than a TIMEOUT at its deadline.
      const waitUntil = context.deadline - config.deadlineReserveMs - MIN_CALL_MS;
      let unavailable = 0;
      const transient = (error: unknown) => hasCode(error, "OVERLOADED") || (hasCode(error, "UNAVAILABLE") && ++unavailable < LEASE_ATTEMPTS_UNAVAILABLE);
      return retryWithin(() => leases.acquire({
        tenant: context.tenant, service: call.service, model: call.model, estimatedTokens: call.estimatedTokens, callTimeoutMs: call.callTimeoutMs,
        deadline: context.deadline, traceparent: context.traceparent, signal: context.signal, maxAttempts: 1,
      }), { maxAttempts: Number.POSITIVE_INFINITY, retryOn: transient, deadline: waitUntil, signal: context.signal, maxDelayMs: LEASE_MAX_WAIT_MS });
    },
    signal(context, signal) {
      // The provider pushed back: ai-capacity's cool-down must apply at once, not when the shares run out.
      if (signal.outcome === "rate_limited") leases.retireShares(signal.model);
      if (signal.outcome === "ok") {
        const now = Date.now();
        if (now - (lastOkSignal.get(signal.model) ?? 0) < OK_SIGNAL_INTERVAL_MS) return;
        lastOkSignal.set(signal.model, now);
      }
      context.mesh.client.request(aiCapacityContract.requests.signal, {
        model: signal.model,
        outcome: signal.outcome,
        latencyMs: Math.min(signal.latencyMs, 3_600_000),
        ...(signal.retryAfterMs === undefined ? {} : { retryAfterMs: Math.min(Math.ceil(signal.retryAfterMs), 3_600_000) }),
      }, { tenant: context.tenant, traceparent: context.traceparent, deadline: Date.now() + SIGNAL_TIMEOUT_MS, maxAttempts: 1 }).catch((error: unknown) => {
        context.log.debug({ err: isMeshError(error) ? error.message : error }, "provider signal not delivered");
      });
    },
    close: () => leases.close(),
  };
}

/** Before onStart: no call is admitted (requests arrive only after it, so this is never seen). */
export const CAPACITY_NOT_STARTED: CallCapacity = {
  admit: async () => { throw new MeshError("UNAVAILABLE", "the llm replica is starting", { retryAfterMs: 100 }); },
  signal: () => {},
  close: async () => {},
};
