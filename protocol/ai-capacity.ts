import { z } from "zod";
import { defineContract } from "./contract.ts";
import { HEADER_LIMITS } from "./headers.ts";

const Name = z.string().regex(/^[a-z0-9][a-z0-9._:-]{0,99}$/i);

/** Dollars per million tokens. A model missing from the price table is refused (never free). */
export const ModelPrice = z.object({ inputPerMillion: z.number().nonnegative(), outputPerMillion: z.number().nonnegative() });
export type ModelPrice = z.infer<typeof ModelPrice>;

export const LeaseRequest = z.strictObject({
  /** The service the capacity is for (attribution and per-service bucket). */
  service: Name,
  model: Name,
  /** Prompt tokens counted by the caller plus the request's output cap. */
  estimatedTokens: z.number().int().positive().max(10_000_000),
  /** Requests this lease covers (a capacity share covers several calls). Default 1. */
  requests: z.number().int().positive().max(1000).default(1),
  /**
   * The longest the call(s) under this lease may take, ms. The lease lives this long plus
   * ai-capacity's settle grace, so it cannot expire while its call is still running. Omitted:
   * the grace alone. Longer than ai-capacity's `AI_MAX_CALL_MS` is refused (`BAD_REQUEST`).
   */
  callTimeoutMs: z.number().int().positive().max(3_600_000).optional(),
});

export const LeaseGrant = z.object({
  leaseId: z.string(),
  grantedTokens: z.number().int().nonnegative(),
  grantedRequests: z.number().int().nonnegative(),
  /** Budget reserved for this lease, US dollars: an upper bound of what settling the estimated tokens can cost. */
  reservedUsd: z.number().nonnegative(),
  /** Epoch ms; an unsettled lease returns its capacity and budget after this. */
  expiresAt: z.number().int(),
  /** The prices settle applies to this lease, so a caller can show the cost of each call it carves out of it. */
  price: ModelPrice,
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

/**
 * The settlement of one lease as a durable event (published by the lease holder, `events.llm.settlement`
 * for the llm actor, event id `settle-<leaseId>`). ai-capacity consumes it and settles the lease
 * once: a repeat changes nothing; a lease that already expired (charged its reservation) is
 * corrected to this cost. A call that failed without usage settles with zero tokens and requests.
 */
export const LeaseSettlement = SettleRequest.extend({
  /** Must equal the event's Mw-Tenant header; the lease is looked up in that tenant's record only. */
  tenant: z.string().regex(HEADER_LIMITS.tenant),
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
export const ProviderSignalResult = z.object({
  model: z.string(),
  /** Share of the configured per-model capacity granted now (0.05 to 1). */
  capacityFactor: z.number(),
  /** Epoch ms until which leases for the model are refused (after a rate_limited signal with retryAfterMs). */
  coolDownUntil: z.number().int().optional(),
});

export const CapacityStatusRequest = z.strictObject({});
export const CapacityStatus = z.object({
  tenant: z.string(),
  budgetUsd: z.number(),
  spentUsd: z.number(),
  reservedUsd: z.number(),
  /** The current budget period: "2026-11-27" for a daily budget, "2026-11" for a monthly one (UTC). */
  period: z.string(),
  /** What the tenant's own bucket holds now (refill included), before per-service and per-model limits. */
  tokensAvailable: z.number(),
  requestsAvailable: z.number(),
});

export const PriceListRequest = z.strictObject({});
/** The priced models (the only ones leases are granted for), dollars per million tokens, sorted by name. */
export const PriceList = z.object({ models: z.array(ModelPrice.extend({ model: z.string() })) });
export type PriceList = z.infer<typeof PriceList>;

export type LeaseRequest = z.input<typeof LeaseRequest>;
export type LeaseGrant = z.infer<typeof LeaseGrant>;
export type SettleRequest = z.input<typeof SettleRequest>;
export type SettleResult = z.infer<typeof SettleResult>;
export type LeaseSettlement = z.output<typeof LeaseSettlement>;
export type ReleaseResult = z.infer<typeof ReleaseResult>;
export type ProviderSignal = z.infer<typeof ProviderSignal>;
export type ProviderSignalResult = z.infer<typeof ProviderSignalResult>;
export type CapacityStatus = z.infer<typeof CapacityStatus>;

export const aiCapacityContract = defineContract({
  actor: "ai-capacity",
  requests: {
    lease: { subject: "ai-capacity.lease", input: LeaseRequest, output: LeaseGrant, mutating: true, role: "lease-holder" },
    settle: { subject: "ai-capacity.settle", input: SettleRequest, output: SettleResult, mutating: true, role: "lease-holder" },
    release: { subject: "ai-capacity.release", input: ReleaseRequest, output: ReleaseResult, mutating: true, role: "lease-holder" },
    signal: { subject: "ai-capacity.signal", input: ProviderSignal, output: ProviderSignalResult, role: "provider-signals" },
    status: { subject: "ai-capacity.status", input: CapacityStatusRequest, output: CapacityStatus },
    /** The price table: which models can be leased at all (the gateway lists them as /v1/models). */
    prices: { subject: "ai-capacity.prices", input: PriceListRequest, output: PriceList, tenantless: true },
  },
  events: {},
});
