import { circuitBreaker, CircuitState, ConsecutiveBreaker, handleWhen, isBrokenCircuitError } from "cockatiel";
import { MeshError } from "../errors.ts";
import { isConnectivityError, toStoreError } from "./database-errors.ts";

export type BreakerState = "open" | "half-open" | "closed";

export interface DatabaseBreakerOptions {
  /** Consecutive connectivity failures that open the circuit. Default 5. */
  readonly consecutiveFailures?: number;
  /** Time the circuit stays open before one trial call may pass. Default 1000 ms. */
  readonly halfOpenAfterMs?: number;
  readonly onStateChange?: (state: BreakerState) => void;
}

/** Runs database calls through one circuit and turns every failure into a MeshError. */
export interface DatabaseBreaker {
  run<T>(operation: () => Promise<T>): Promise<T>;
  state(): BreakerState;
}

const STATE_NAMES: Readonly<Record<CircuitState, BreakerState>> = {
  [CircuitState.Closed]: "closed",
  [CircuitState.Open]: "open",
  [CircuitState.HalfOpen]: "half-open",
  [CircuitState.Isolated]: "open",
};

export function createDatabaseBreaker({ consecutiveFailures = 5, halfOpenAfterMs = 1000, onStateChange }: DatabaseBreakerOptions = {}): DatabaseBreaker {
  if (!Number.isInteger(consecutiveFailures) || consecutiveFailures < 1) {
    throw new MeshError("INTERNAL", "breaker.consecutiveFailures must be a positive integer");
  }
  if (!Number.isFinite(halfOpenAfterMs) || halfOpenAfterMs < 0) {
    throw new MeshError("INTERNAL", "breaker.halfOpenAfterMs must be a non-negative number");
  }
  // Only connectivity counts: a duplicate key or a bad query says nothing about the database's health.
  const policy = circuitBreaker(handleWhen(isConnectivityError), {
    halfOpenAfter: halfOpenAfterMs,
    breaker: new ConsecutiveBreaker(consecutiveFailures),
  });
  let openedAt = 0;
  policy.onStateChange((state) => {
    if (state === CircuitState.Open) openedAt = Date.now();
    onStateChange?.(STATE_NAMES[state]);
  });

  const untilHalfOpen = (): number => Math.max(1, openedAt + halfOpenAfterMs - Date.now());

  return {
    async run<T>(operation: () => Promise<T>): Promise<T> {
      try {
        return await policy.execute(() => operation());
      } catch (error) {
        if (isBrokenCircuitError(error)) {
          throw new MeshError("UNAVAILABLE", "database unavailable", { retryAfterMs: untilHalfOpen(), cause: error });
        }
        // A connectivity failure always says when to retry: the half-open time while the circuit
        // is open, else the half-open delay itself (the circuit may be about to open).
        throw toStoreError(error, policy.state === CircuitState.Open ? untilHalfOpen() : halfOpenAfterMs);
      }
    },
    state: () => STATE_NAMES[policy.state],
  };
}
