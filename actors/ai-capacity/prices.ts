import type { ModelPrice } from "../../protocol/ai-capacity.ts";
import { MeshError } from "../../runtime/index.ts";

/** Dollars per million tokens, used unless AI_PRICES replaces the table. */
export const DEFAULT_PRICES: Readonly<Record<string, ModelPrice>> = Object.freeze({
  "gpt-4o-mini": { inputPerMillion: 0.15, outputPerMillion: 0.6 },
  "gpt-4o": { inputPerMillion: 2.5, outputPerMillion: 10 },
  "small-model": { inputPerMillion: 0.1, outputPerMillion: 0.4 },
  "large-model": { inputPerMillion: 1, outputPerMillion: 4 },
});

/**
 * Money is counted in whole nano-dollars: a price of $X per million tokens is exactly X * 1000
 * nano-dollars per token (prices are kept to $0.001 per million). Integers add up without
 * float drift, and the largest sums (a budget of $1M is 1e15) stay below 2^53.
 */
export interface TokenPrice {
  readonly inputNanoUsd: number;
  readonly outputNanoUsd: number;
}

const NANO_PER_USD = 1e9;

export function nanoUsd(usd: number): number {
  return Math.round(usd * NANO_PER_USD);
}

export function usdFromNano(nano: number): number {
  return nano / NANO_PER_USD;
}

export function tokenPrice(price: ModelPrice): TokenPrice {
  return { inputNanoUsd: Math.round(price.inputPerMillion * 1000), outputNanoUsd: Math.round(price.outputPerMillion * 1000) };
}

/** The model's price; a model without one is refused, never served for free. */
export function priceOf(prices: Readonly<Record<string, ModelPrice>>, model: string): ModelPrice {
  const price = Object.hasOwn(prices, model) ? prices[model] : undefined;
  if (!price) throw new MeshError("FORBIDDEN", `model ${model} has no price`);
  return price;
}

/**
 * What a lease reserves: every estimated token at the dearer of the two prices, so no split of
 * those tokens into prompt and completion can cost more when the lease is settled.
 */
export function reservationNanoUsd(price: TokenPrice, estimatedTokens: number): number {
  return estimatedTokens * Math.max(price.inputNanoUsd, price.outputNanoUsd);
}

export function costNanoUsd(price: TokenPrice, usage: { promptTokens: number; completionTokens: number }): number {
  return usage.promptTokens * price.inputNanoUsd + usage.completionTokens * price.outputNanoUsd;
}
