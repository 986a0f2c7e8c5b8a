import type { ModelPrice } from "../../protocol/ai-capacity.ts";
import { MeshError } from "../../runtime/index.ts";

/** Dollars per million tokens, used unless AI_PRICES replaces the table. */
export const DEFAULT_PRICES: Readonly<Record<string, ModelPrice>> = Object.freeze({
  "gpt-4o-mini": { inputPerMillion: 0.15, outputPerMillion: 0.6 },
  "gpt-4o": { inputPerMillion: 2.5, outputPerMillion: 10 },
  "small-model": { inputPerMillion: 0.1, outputPerMillion: 0.4 },
  "large-model": { inputPerMillion: 1, outputPerMillion: 4 },
});

// Money arithmetic (whole nano-dollars) is the protocol's: every actor counts alike.
export { costNanoUsd, nanoUsd, reservationNanoUsd, tokenPrice, usdFromNano, type TokenPrice } from "../../protocol/money.ts";

/** The model's price; a model without one is refused, never served for free. */
export function priceOf(prices: Readonly<Record<string, ModelPrice>>, model: string): ModelPrice {
  const price = Object.hasOwn(prices, model) ? prices[model] : undefined;
  if (!price) throw new MeshError("FORBIDDEN", `model ${model} has no price`);
  return price;
}
