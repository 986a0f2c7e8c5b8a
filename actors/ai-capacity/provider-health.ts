import type { ProviderSignal } from "../../protocol/ai-capacity.ts";
import type { AiCapacityConfig } from "./config.ts";

/** How a model's provider is doing, shared by every tenant (one versioned record per model). */
export interface HealthState {
  /** Share of the configured per-model capacity granted (MIN_FACTOR..1). */
  factor: number;
  /** Epoch ms until which leases for the model are refused; 0 when none. */
  coolDownUntil: number;
  lastDecreaseAt: number;
  lastChangeAt: number;
}

export const HEALTHY: Readonly<HealthState> = Object.freeze({ factor: 1, coolDownUntil: 0, lastDecreaseAt: 0, lastChangeAt: 0 });
export const MIN_FACTOR = 0.05;
const DECREASE = 0.5;
const INCREASE = 0.1;

type HealthRules = Pick<AiCapacityConfig, "healthDecreaseWindowMs" | "healthRecoveryWindowMs" | "slowLatencyMs">;

const rounded = (factor: number) => Math.round(factor * 1000) / 1000;

/**
 * AIMD, as TCP does it: a 429 or a timeout halves the factor (at most once per decrease window,
 * so one burst of failures counts as one event; floor MIN_FACTOR), and an `ok` that was not
 * slow adds 0.1 (at most once per recovery window after any change; cap 1). A 429 carrying
 * retryAfterMs also starts a cool-down. `error` says nothing about capacity and changes nothing.
 * Most `ok` signals change nothing, and an unchanged record is not written.
 */
export function applySignal(signal: ProviderSignal, rules: HealthRules) {
  return (state: HealthState, now: number): HealthState => {
    if (signal.outcome === "rate_limited" || signal.outcome === "timeout") {
      if (now - state.lastDecreaseAt >= rules.healthDecreaseWindowMs && state.factor > MIN_FACTOR) {
        state.factor = Math.max(MIN_FACTOR, rounded(state.factor * DECREASE));
        state.lastDecreaseAt = now;
        state.lastChangeAt = now;
      }
      if (signal.outcome === "rate_limited" && signal.retryAfterMs) {
        state.coolDownUntil = Math.max(state.coolDownUntil, now + signal.retryAfterMs);
      }
    } else if (signal.outcome === "ok" && signal.latencyMs < rules.slowLatencyMs && state.factor < 1) {
      if (now - state.lastChangeAt >= rules.healthRecoveryWindowMs) {
        state.factor = Math.min(1, rounded(state.factor + INCREASE));
        state.lastChangeAt = now;
      }
    }
    return { ...state };
  };
}
