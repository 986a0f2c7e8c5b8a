import type { ErrorCode } from "../../protocol/errors.ts";

/** Codes the demo provokes on purpose (tight budget, low rate limit): not failures. */
export const INTENDED_REJECTIONS: ReadonlySet<string> = new Set<ErrorCode>(["RATE_LIMITED", "OVER_BUDGET"]);

export interface CallRecord {
  readonly actor: string;
  readonly tenant: string;
  readonly service: string;
  readonly durationMs: number;
  /** "OK" or the error code of the reply. */
  readonly code: string;
}

export interface AiUsageRecord {
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly costUsd: number;
  readonly cached: boolean;
}

interface ActorTally {
  calls: number;
  codes: Map<string, number>;
  latencies: number[];
  next: number;
}

export interface TenantTally {
  aiCalls: number;
  cachedCalls: number;
  tokens: number;
  costUsd: number;
  rejections: Map<string, number>;
}

export interface ActorMeasure {
  readonly actor: string;
  readonly calls: number;
  readonly errors: Readonly<Record<string, number>>;
  readonly p50Ms: number | undefined;
  readonly p99Ms: number | undefined;
}

export interface TenantMeasure {
  readonly tenant: string;
  readonly aiCalls: number;
  readonly cachedCalls: number;
  readonly tokens: number;
  readonly costUsd: number;
  readonly rejections: Readonly<Record<string, number>>;
}

/** Latencies kept per actor for percentiles (a ring: the most recent calls count). */
const LATENCY_WINDOW = 2048;

function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** What the demo's simulated services saw from the client side: calls, codes, latency, AI use. */
export class Measurements {
  readonly #actors = new Map<string, ActorTally>();
  readonly #tenants = new Map<string, TenantTally>();
  readonly #waiters: Array<{ total: number; resolve: () => void }> = [];
  #total = 0;
  #failures = 0;

  record(call: CallRecord): void {
    const actor: ActorTally = this.#actors.get(call.actor) ?? { calls: 0, codes: new Map(), latencies: [], next: 0 };
    this.#actors.set(call.actor, actor);
    actor.calls++;
    if (call.code !== "OK") actor.codes.set(call.code, (actor.codes.get(call.code) ?? 0) + 1);
    if (actor.latencies.length < LATENCY_WINDOW) actor.latencies.push(call.durationMs);
    else actor.latencies[actor.next] = call.durationMs;
    actor.next = (actor.next + 1) % LATENCY_WINDOW;
    if (call.code !== "OK") {
      const tenant = this.#tenant(call.tenant);
      tenant.rejections.set(call.code, (tenant.rejections.get(call.code) ?? 0) + 1);
      if (!INTENDED_REJECTIONS.has(call.code)) this.#failures++;
    }
    this.#total++;
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      const waiter = this.#waiters[i]!;
      if (this.#total >= waiter.total) {
        this.#waiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }

  recordAi(tenant: string, usage: AiUsageRecord): void {
    const tally = this.#tenant(tenant);
    tally.aiCalls++;
    if (usage.cached) tally.cachedCalls++;
    tally.tokens += usage.promptTokens + usage.completionTokens;
    tally.costUsd += usage.costUsd;
  }

  #tenant(tenant: string): TenantTally {
    let tally = this.#tenants.get(tenant);
    if (!tally) {
      tally = { aiCalls: 0, cachedCalls: 0, tokens: 0, costUsd: 0, rejections: new Map() };
      this.#tenants.set(tenant, tally);
    }
    return tally;
  }

  get total(): number {
    return this.#total;
  }

  /** Error replies other than the intended rejections. */
  get failures(): number {
    return this.#failures;
  }

  /** Resolves once `count` more calls have been recorded (lets a test wait for traffic, not time). */
  untilMoreCalls(count: number): Promise<void> {
    const total = this.#total + count;
    return new Promise((resolve) => this.#waiters.push({ total, resolve }));
  }

  actors(): ActorMeasure[] {
    return [...this.#actors.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([actor, tally]) => {
      const sorted = [...tally.latencies].sort((a, b) => a - b);
      return { actor, calls: tally.calls, errors: Object.fromEntries(tally.codes), p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99) };
    });
  }

  tenant(tenant: string): TenantMeasure {
    const tally = this.#tenant(tenant);
    return { tenant, aiCalls: tally.aiCalls, cachedCalls: tally.cachedCalls, tokens: tally.tokens, costUsd: tally.costUsd, rejections: Object.fromEntries(tally.rejections) };
  }
}
