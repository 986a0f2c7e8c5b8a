import { isMeshError, MeshError } from "../errors.ts";
import type { AcquireRequest } from "./lease-types.ts";

/** Entries past this many are swept of expired ones before the next is kept. */
const SWEEP_ABOVE = 10_000;

interface Refusal {
  readonly code: "OVER_BUDGET" | "RATE_LIMITED";
  readonly message: string;
  /** The call size refused: larger calls are refused too, smaller ones still ask. */
  readonly tokens: number;
  /** Until when this replica answers for ai-capacity (epoch ms). */
  readonly until: number;
  /** When ai-capacity said the bucket would hold the refused size again (RATE_LIMITED). */
  readonly retryAt: number;
  /** Since when one call, past `until`, is asking ai-capacity for the others (0: none is). */
  probingSince: number;
}

/**
 * ai-capacity's last per-call refusal for each (tenant, service, model), kept for a moment so a
 * rush of calls the tenant cannot afford is refused here instead of each asking ai-capacity: one
 * tenant over its budget or limits would otherwise fill ai-capacity's replicas for everyone.
 * A call at least as large as the refused one is refused with the same code while the refusal is
 * fresh (`holdMs`, and for RATE_LIMITED never past ai-capacity's own retry time, which the local
 * refusal passes on); a smaller call asks ai-capacity. Once the refusal is due, one call asks and
 * the others keep being refused until it is answered, so a rush does not ask all at once again.
 * A grant of a call at least that large forgets the refusal. The cost: a budget raised or
 * capacity freed is seen by this replica up to `holdMs` and one ai-capacity round trip later.
 */
export class RefusalMemory {
  readonly #holdMs: number;
  readonly #refusals = new Map<string, Refusal>();

  constructor(holdMs: number) {
    if (!Number.isFinite(holdMs) || holdMs < 0) throw new MeshError("BAD_REQUEST", "refusalHoldMs must be a non-negative number of milliseconds");
    this.#holdMs = holdMs;
  }

  /** Throws the remembered refusal when it covers this call. */
  check(request: AcquireRequest, now = Date.now()): void {
    if (this.#holdMs <= 0) return;
    const key = keyOf(request);
    const refusal = this.#refusals.get(key);
    if (!refusal || request.estimatedTokens < refusal.tokens) return;
    if (now >= refusal.until) {
      // One call asks; the others keep the refusal until it is answered (or its ask outlives holdMs).
      if (refusal.probingSince === 0 || now - refusal.probingSince >= this.#holdMs) {
        refusal.probingSince = now;
        return;
      }
    }
    throw refusal.code === "RATE_LIMITED"
      ? new MeshError("RATE_LIMITED", refusal.message, { retryAfterMs: Math.max(1, refusal.retryAt - now) })
      : new MeshError("OVER_BUDGET", refusal.message);
  }

  /** Keeps ai-capacity's answer to a per-call lease: a refusal to remember, or a grant that ends one. */
  observe(request: AcquireRequest, outcome: unknown, now = Date.now()): void {
    if (this.#holdMs <= 0) return;
    const key = keyOf(request);
    const kept = this.#refusals.get(key);
    if (!isMeshError(outcome) || (outcome.code !== "OVER_BUDGET" && outcome.code !== "RATE_LIMITED")) {
      if (!kept) return;
      // Granted: a call this large fits again (a smaller grant says nothing about larger calls).
      // Any other answer: the next call past the refusal's time asks.
      if (outcome === undefined && request.estimatedTokens >= kept.tokens) this.#refusals.delete(key);
      else kept.probingSince = 0;
      return;
    }
    const retryAt = now + (outcome.retryAfterMs ?? 0);
    const until = outcome.code === "RATE_LIMITED" ? Math.min(now + this.#holdMs, retryAt) : now + this.#holdMs;
    if (until <= now) return;
    if (this.#refusals.size >= SWEEP_ABOVE) this.#sweep(now);
    // The smallest call refused lately covers the most; a fresher refusal of a larger one renews it.
    const tokens = kept && now < kept.until && kept.code === outcome.code ? Math.min(kept.tokens, request.estimatedTokens) : request.estimatedTokens;
    this.#refusals.set(key, { code: outcome.code, message: outcome.message, tokens, until, retryAt, probingSince: 0 });
  }

  #sweep(now: number): void {
    for (const [key, refusal] of this.#refusals) if (now >= refusal.until + this.#holdMs) this.#refusals.delete(key);
  }
}

function keyOf(request: AcquireRequest): string {
  return `${request.tenant}\u0000${request.service ?? ""}\u0000${request.model}`;
}
