import { z } from "zod";
import { defineContract } from "./contract.ts";

const Name = z.string().regex(/^[a-z0-9][a-z0-9._:-]{0,99}$/i);

export const LeaseRequest = z.strictObject({
  /** The service the capacity is for (attribution and per-service bucket). */
  service: Name,
  model: Name,
  /** Prompt tokens counted by the caller plus the request's output cap. */
  estimatedTokens: z.number().int().positive().max(10_000_000),
  /** Requests this lease covers (a local lease may cover several calls). Default 1. */
  requests: z.number().int().positive().max(1000).default(1),
});

export const LeaseGrant = z.object({
  leaseId: z.string(),
  grantedTokens: z.number().int().nonnegative(),
  grantedRequests: z.number().int().nonnegative(),
  /** Budget reserved for this lease, US dollars. */
  reservedUsd: z.number().nonnegative(),
  /** Epoch ms; an unsettled lease returns its capacity and budget after this. */
  expiresAt: z.number().int(),
});

export const SettleRequest = z.strictObject({
  leaseId: z.string().min(1).max(100),
  promptTokens: z.number().int().nonnegative().max(10_000_000),
  completionTokens: z.number().int().nonnegative().max(10_000_000),
  /** Calls actually made under the lease. Default 1. */
  requests: z.number().int().nonnegative().max(1000).default(1),
});

export const SettleResult = z.object({
  leaseId: z.string(),
  costUsd: z.number().nonnegative(),
  /** Tokens returned to the buckets (granted minus used; negative when overage was charged). */
  returnedTokens: z.number().int(),
  alreadySettled: z.boolean(),
});

export const ReleaseRequest = z.strictObject({ leaseId: z.string().min(1).max(100) });
export const ReleaseResult = z.object({ leaseId: z.string(), released: z.boolean() });

/** Provider health reported by callers (the llm actor) after each call. */
export const ProviderSignal = z.strictObject({
  model: Name,
  outcome: z.enum(["ok", "rate_limited", "timeout", "error"]),
  latencyMs: z.number().nonnegative().max(3_600_000),
  retryAfterMs: z.number().int().nonnegative().max(3_600_000).optional(),
});
export const ProviderSignalResult = z.object({ model: z.string(), capacityFactor: z.number() });

export const CapacityStatusRequest = z.strictObject({});
export const CapacityStatus = z.object({
  tenant: z.string(),
  budgetUsd: z.number(),
  spentUsd: z.number(),
  reservedUsd: z.number(),
  period: z.string(),
  tokensAvailable: z.number(),
  requestsAvailable: z.number(),
});

/** Dollars per million tokens. A model missing here is refused (never free). */
export const ModelPrice = z.object({ inputPerMillion: z.number().nonnegative(), outputPerMillion: z.number().nonnegative() });

export const aiCapacityContract = defineContract({
  actor: "ai-capacity",
  requests: {
    lease: { subject: "ai-capacity.lease", input: LeaseRequest, output: LeaseGrant, mutating: true },
    settle: { subject: "ai-capacity.settle", input: SettleRequest, output: SettleResult, mutating: true },
    release: { subject: "ai-capacity.release", input: ReleaseRequest, output: ReleaseResult, mutating: true },
    signal: { subject: "ai-capacity.signal", input: ProviderSignal, output: ProviderSignalResult },
    status: { subject: "ai-capacity.status", input: CapacityStatusRequest, output: CapacityStatus },
  },
  events: {},
});
