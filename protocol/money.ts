/**
 * Money in the mesh is counted in whole nano-dollars: a price of $X per million tokens is
 * exactly X * 1000 nano-dollars per token (prices are kept to $0.001 per million). Integers add
 * up without float drift, and the largest sums (a budget of $1M is 1e15) stay below 2^53. Every
 * actor that prices, reserves, settles or sums a cost uses these, so they all agree to the
 * nano-dollar.
 */

/** Dollars per million tokens, as a contract carries a model's price. */
export interface PerMillionPrice {
  readonly inputPerMillion: number;
  readonly outputPerMillion: number;
}

/** Nano-dollars per token. */
export interface TokenPrice {
  readonly inputNanoUsd: number;
  readonly outputNanoUsd: number;
}

export interface TokenUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
}

export const NANO_PER_USD = 1e9;

/** Dollars as whole nano-dollars. */
export function nanoUsd(usd: number): number {
  return Math.round(usd * NANO_PER_USD);
}

export function usdFromNano(nano: number): number {
  return nano / NANO_PER_USD;
}

export function tokenPrice(price: PerMillionPrice): TokenPrice {
  return { inputNanoUsd: Math.round(price.inputPerMillion * 1000), outputNanoUsd: Math.round(price.outputPerMillion * 1000) };
}

export function costNanoUsd(price: TokenPrice, usage: TokenUsage): number {
  return usage.promptTokens * price.inputNanoUsd + usage.completionTokens * price.outputNanoUsd;
}

/** The dollars a call costs at a per-million price, with the nano-dollar arithmetic above. */
export function callCostUsd(price: PerMillionPrice, usage: TokenUsage): number {
  return usdFromNano(costNanoUsd(tokenPrice(price), usage));
}

/**
 * What a lease reserves: every estimated token at the dearer of the two prices, so no split of
 * those tokens into prompt and completion can cost more when the lease is settled.
 */
export function reservationNanoUsd(price: TokenPrice, estimatedTokens: number): number {
  return estimatedTokens * Math.max(price.inputNanoUsd, price.outputNanoUsd);
}
