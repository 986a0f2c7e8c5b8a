/** Every actor of the mesh, listed explicitly (no registration by side effect). */
import type { ActorDefinition } from "../runtime/index.ts";
import { aiCapacityActor } from "./ai-capacity/actor.ts";
import { llmActor } from "./llm/actor.ts";
import { tenantsActor } from "./tenants/actor.ts";
import { usageActor } from "./usage/actor.ts";

export const actors: Readonly<Record<string, ActorDefinition>> = {
  tenants: tenantsActor as unknown as ActorDefinition,
  "ai-capacity": aiCapacityActor as unknown as ActorDefinition,
  llm: llmActor as unknown as ActorDefinition,
  usage: usageActor as unknown as ActorDefinition,
};
