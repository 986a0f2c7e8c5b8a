import type { ProviderSignal } from "../../protocol/ai-capacity.ts";
import { hasCode, type GlobalCollection } from "../../runtime/index.ts";
import type { AiCapacityConfig } from "./config.ts";

/** How a model's provider is doing, shared by every tenant: the global `provider_health` collection. */
export interface HealthDoc {
  _id: string;
  /** Share of the configured per-model capacity granted (MIN_FACTOR..1). */
  factor: number;
  /** Epoch ms until which leases for the model are refused; 0 when none. */
  coolDownUntil: number;
  lastDecreaseAt: number;
  lastChangeAt: number;
  updatedAt: number;
  version: number;
}

export const MIN_FACTOR = 0.05;
const DECREASE = 0.5;
const INCREASE = 0.1;

type HealthState = Omit<HealthDoc, "_id" | "version">;
type HealthRules = Pick<AiCapacityConfig, "healthDecreaseWindowMs" | "healthRecoveryWindowMs" | "slowLatencyMs">;

const HEALTHY: HealthState = { factor: 1, coolDownUntil: 0, lastDecreaseAt: 0, lastChangeAt: 0, updatedAt: 0 };

const rounded = (factor: number) => Math.round(factor * 1000) / 1000;

/**
 * AIMD, as TCP does it: a 429 or a timeout halves the factor (at most once per decrease window,
 * so one burst of failures counts as one event; floor MIN_FACTOR), and each `ok` that is not
 * slow adds 0.1 (at most once per recovery window after any change; cap 1). A 429 carrying
 * retryAfterMs also starts a cool-down. `error` says nothing about capacity and changes nothing.
 * Returns null when the signal changes nothing (most `ok` signals: no write).
 */
export function applySignal(state: HealthState, signal: ProviderSignal, now: number, rules: HealthRules): HealthState | null {
  const next = { ...state };
  if (signal.outcome === "rate_limited" || signal.outcome === "timeout") {
    if (now - state.lastDecreaseAt >= rules.healthDecreaseWindowMs && state.factor > MIN_FACTOR) {
      next.factor = Math.max(MIN_FACTOR, rounded(state.factor * DECREASE));
      next.lastDecreaseAt = now;
      next.lastChangeAt = now;
    }
    if (signal.outcome === "rate_limited" && signal.retryAfterMs) {
      next.coolDownUntil = Math.max(state.coolDownUntil, now + signal.retryAfterMs);
    }
  } else if (signal.outcome === "ok" && signal.latencyMs < rules.slowLatencyMs && state.factor < 1) {
    if (now - state.lastChangeAt >= rules.healthRecoveryWindowMs) {
      next.factor = Math.min(1, rounded(state.factor + INCREASE));
      next.lastChangeAt = now;
    }
  }
  if (next.factor === state.factor && next.coolDownUntil === state.coolDownUntil) return null;
  return { ...next, updatedAt: now };
}

export async function readHealth(health: GlobalCollection<HealthDoc>, model: string): Promise<HealthState> {
  return (await health.findOne({ _id: model })) ?? HEALTHY;
}

/** Applies a signal with compare-and-set on `version`; a signal that keeps losing races is dropped (it is advice). */
export async function recordSignal(health: GlobalCollection<HealthDoc>, signal: ProviderSignal, rules: HealthRules): Promise<HealthState> {
  let current: HealthState = HEALTHY;
  for (let attempt = 0; attempt < 8; attempt++) {
    const doc = await health.findOne({ _id: signal.model });
    current = doc ?? HEALTHY;
    const next = applySignal(current, signal, Date.now(), rules);
    if (!next) return current;
    if (!doc) {
      try {
        await health.insertOne({ _id: signal.model, ...next, version: 1 });
        return next;
      } catch (error) {
        if (!hasCode(error, "CONFLICT")) throw error;
        continue;
      }
    }
    const written = await health.findOneAndUpdate({ _id: signal.model, version: doc.version }, { $set: next, $inc: { version: 1 } });
    if (written) return written;
  }
  return current;
}
