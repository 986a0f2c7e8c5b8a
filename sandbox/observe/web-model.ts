/**
 * What the web view shows, as one JSON document per sample: actors (replicas, per-endpoint rates,
 * errors by code, latency), consumer lag per durable, tenants (spend against budget, token rate
 * against limit, OVER_BUDGET and RATE_LIMITED counts), recent dead letters, and a short history
 * of the figures the page plots.
 */
import type { DashboardState } from "../demo/dashboard.ts";
import { spendOf } from "../demo/dashboard.ts";
import type { ConsumerLag } from "../cli/inspect.ts";
import type { DeadLetterView } from "./dead-letters.ts";
import type { EndpointRate } from "./endpoint-rates.ts";

export interface WebActor {
  readonly actor: string;
  readonly desired: number;
  readonly ready: number;
  readonly restarts: number;
  /** Instances answering the service API now. */
  readonly instances: number;
  readonly endpoints: readonly EndpointRate[];
  /** Error replies by code, as the demo's callers saw them. */
  readonly errorsByCode: Readonly<Record<string, number>>;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
}

export interface WebTenant {
  readonly tenant: string;
  readonly role: string;
  readonly spentUsd: number;
  readonly budgetUsd: number;
  readonly budgetPeriod: string;
  /** Tokens per minute over the last samples, against the tenant's limit. */
  readonly tokensPerMinute: number;
  readonly tokensPerMinuteLimit: number;
  readonly tokens: number;
  readonly overBudget: number;
  readonly rateLimited: number;
}

export interface WebSample {
  readonly at: number;
  /** Counts samples since the view started: a page can tell that it is being updated. */
  readonly sequence: number;
  readonly actors: readonly WebActor[];
  readonly consumers: readonly ConsumerLag[];
  readonly tenants: readonly WebTenant[];
  readonly deadLetters: readonly DeadLetterView[];
  readonly recentTraces: readonly string[];
  readonly history: WebHistory;
}

/** Series the page plots, oldest first, one point per sample. */
export interface WebHistory {
  readonly at: readonly number[];
  readonly requestsPerSecond: Readonly<Record<string, readonly number[]>>;
  readonly errorsPerSecond: Readonly<Record<string, readonly number[]>>;
  readonly consumerLag: Readonly<Record<string, readonly number[]>>;
  readonly spendUsd: Readonly<Record<string, readonly number[]>>;
}

const HISTORY_POINTS = 120;

function push(series: Record<string, number[]>, key: string, value: number, length: number): void {
  const values = series[key] ?? (series[key] = Array.from({ length: Math.max(0, length - 1) }, () => 0));
  values.push(value);
  if (values.length > HISTORY_POINTS) values.shift();
}

/** Turns dashboard states into samples, keeping the history and token counts between them. */
export class WebModel {
  #sequence = 0;
  readonly #at: number[] = [];
  readonly #rps: Record<string, number[]> = {};
  readonly #eps: Record<string, number[]> = {};
  readonly #lag: Record<string, number[]> = {};
  readonly #spend: Record<string, number[]> = {};
  readonly #tokens: { at: number; byTenant: Map<string, number> }[] = [];

  sample(state: DashboardState, endpoints: readonly EndpointRate[], deadLetters: readonly DeadLetterView[], recentTraces: readonly string[], now: number): WebSample {
    this.#sequence++;
    this.#at.push(now);
    if (this.#at.length > HISTORY_POINTS) this.#at.shift();
    const length = this.#at.length;
    const observed = state.observation?.actors ?? [];
    const actors: WebActor[] = state.supervisor.map((view) => {
      const measure = state.measures.find((m) => m.actor === view.actor);
      const own = endpoints.filter((e) => e.actor === view.actor);
      push(this.#rps, view.actor, own.reduce((sum, e) => sum + e.requestsPerSecond, 0), length);
      push(this.#eps, view.actor, own.reduce((sum, e) => sum + e.errorsPerSecond, 0), length);
      return {
        actor: view.actor, desired: view.desired,
        ready: view.replicas.filter((r) => r.state === "ready").length,
        restarts: view.replicas.reduce((sum, r) => sum + r.restarts, 0),
        instances: observed.find((a) => a.actor === view.actor)?.instances ?? 0,
        endpoints: own, errorsByCode: measure?.errors ?? {}, p50Ms: measure?.p50Ms ?? null, p99Ms: measure?.p99Ms ?? null,
      };
    });
    const consumers = state.observation?.consumers ?? [];
    for (const consumer of consumers) push(this.#lag, consumer.consumer, consumer.pending + consumer.ackPending, length);

    // Token rate over up to the last minute of samples (cumulative counts seen by the demo's callers).
    this.#tokens.push({ at: now, byTenant: new Map(state.tenants.map((row) => [row.tenant.id, row.measure.tokens])) });
    while (this.#tokens.length > 2 && now - this.#tokens[0]!.at > 60_000) this.#tokens.shift();
    const oldest = this.#tokens[0]!;
    const minutes = Math.max(1 / 60, (now - oldest.at) / 60_000);
    const tenants: WebTenant[] = state.tenants.map((row) => {
      const spent = spendOf(row);
      push(this.#spend, row.tenant.id, spent, length);
      return {
        tenant: row.tenant.id, role: row.tenant.role, spentUsd: spent,
        budgetUsd: row.tenant.policy.budget.amountUsd, budgetPeriod: row.tenant.policy.budget.period,
        tokensPerMinute: oldest.at === now ? 0 : (row.measure.tokens - (oldest.byTenant.get(row.tenant.id) ?? 0)) / minutes,
        tokensPerMinuteLimit: row.tenant.policy.limits.tokensPerMinute, tokens: row.measure.tokens,
        overBudget: row.measure.rejections.OVER_BUDGET ?? 0, rateLimited: row.measure.rejections.RATE_LIMITED ?? 0,
      };
    });
    return {
      at: now, sequence: this.#sequence, actors, consumers, tenants, deadLetters, recentTraces,
      history: { at: [...this.#at], requestsPerSecond: this.#rps, errorsPerSecond: this.#eps, consumerLag: this.#lag, spendUsd: this.#spend },
    };
  }
}
