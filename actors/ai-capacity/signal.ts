import type { ProviderSignal, ProviderSignalResult } from "../../protocol/ai-capacity.ts";
import { MeshError, type WorkContext } from "../../runtime/index.ts";
import type { AiCapacityConfig } from "./config.ts";
import { ledgersOf } from "./ledgers.ts";
import { applySignal } from "./provider-health.ts";

export function createSignalHandler(config: AiCapacityConfig) {
  return async function signal(input: ProviderSignal, context: WorkContext): Promise<ProviderSignalResult> {
    // Only priced models can be leased, so only they have a health worth keeping.
    if (!Object.hasOwn(config.prices, input.model)) throw new MeshError("BAD_REQUEST", `unknown model ${input.model}`);
    const health = await ledgersOf(context.store).health.update("", input.model, applySignal(input, config));
    return {
      model: input.model,
      capacityFactor: health.factor,
      ...(health.coolDownUntil > Date.now() ? { coolDownUntil: health.coolDownUntil } : {}),
    };
  };
}
