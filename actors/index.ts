/**
 * Every actor of the mesh, listed explicitly (no registration by side effect). Each entry is a
 * factory that imports its actor's modules when called, so a replica loads only its own actor:
 * the `tenants` process never loads the `openai` SDK or a tokenizer, and an actor's
 * configuration is read from the environment only in the process that runs it.
 */
import type { Actor } from "../runtime/index.ts";

export type ActorFactory = () => Promise<Actor>;

export const actors: Readonly<Record<string, ActorFactory>> = {
  tenants: async () => (await import("./tenants/actor.ts")).tenantsActor,
  "ai-capacity": async () => (await import("./ai-capacity/actor.ts")).aiCapacityActor,
  llm: async () => (await import("./llm/actor.ts")).llmActor,
  usage: async () => (await import("./usage/actor.ts")).usageActor,
  gateway: async () => (await import("./gateway/actor.ts")).gatewayActor,
};

/** The names of every actor, without loading any of them. */
export const actorNames: readonly string[] = Object.keys(actors);

/** Loads one actor's definition; undefined when no actor has that name. */
export async function loadActor(name: string): Promise<Actor | undefined> {
  return Object.hasOwn(actors, name) ? actors[name]!() : undefined;
}
