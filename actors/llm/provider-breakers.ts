import { circuitBreaker, CircuitState, ConsecutiveBreaker, handleWhen, type CircuitBreakerPolicy } from "cockatiel";
import { countsAgainstCircuit } from "./provider-errors.ts";

export interface ModelCircuit {
  readonly policy: CircuitBreakerPolicy;
  /** True while calls are refused without reaching the provider. */
  isOpen(): boolean;
  /** Time until the circuit lets a test call through, ms (at least 100: a test call may be under way). */
  untilHalfOpen(): number;
}

export interface ProviderBreakers {
  /** The model's circuit, created on first use: call it only for a model ai-capacity leased (a priced one). */
  forModel(model: string): ModelCircuit;
  /** The model's circuit if one exists; never creates one. */
  existing(model: string): ModelCircuit | undefined;
}

/**
 * One circuit per provider endpoint and model, so one failing model does not stop the others.
 * Only provider-health failures count (5xx, timeouts, connection errors); a 429 is backpressure
 * handled by ai-capacity, and refused requests or an exhausted quota say nothing about health.
 */
export function createProviderBreakers(options: {
  readonly provider: string;
  readonly consecutiveFailures: number;
  readonly halfOpenAfterMs: number;
  readonly onStateChange?: (model: string, state: "open" | "half-open" | "closed") => void;
}): ProviderBreakers {
  const circuits = new Map<string, ModelCircuit>();
  const create = (model: string): ModelCircuit => {
    const policy = circuitBreaker(handleWhen(countsAgainstCircuit), {
      halfOpenAfter: options.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(options.consecutiveFailures),
    });
    let openedAt = 0;
    policy.onStateChange((state) => {
      if (state === CircuitState.Open) openedAt = Date.now();
      const name = state === CircuitState.Closed ? "closed" : state === CircuitState.HalfOpen ? "half-open" : "open";
      options.onStateChange?.(model, name);
    });
    return {
      policy,
      // Half-open admits one test call; cockatiel refuses the others until it decides.
      isOpen: () => (policy.state === CircuitState.Open && Date.now() < openedAt + options.halfOpenAfterMs)
        || policy.state === CircuitState.Isolated || policy.state === CircuitState.HalfOpen,
      untilHalfOpen: () => Math.max(100, openedAt + options.halfOpenAfterMs - Date.now()),
    };
  };
  return {
    forModel(model) {
      const key = `${options.provider} ${model}`;
      let circuit = circuits.get(key);
      if (!circuit) circuits.set(key, circuit = create(model));
      return circuit;
    },
    existing: (model) => circuits.get(`${options.provider} ${model}`),
  };
}
