import type { ActorContract, EventContract } from "../protocol/contract.ts";
import { ACTOR_NAME } from "../protocol/subjects.ts";
import type { Actor, ConsumerSpec } from "./types.ts";

/** Checks an actor definition once, at import, and keeps its precise type for callers. */
export function defineActor<C extends ActorContract>(definition: Actor<C>): Actor<C> {
  if (!ACTOR_NAME.test(definition.name)) throw new Error(`actor name ${definition.name} breaks the naming rule ${ACTOR_NAME}`);
  if (definition.name !== definition.contract.actor) throw new Error(`actor ${definition.name} is given the contract of ${definition.contract.actor}`);
  for (const [name, request] of Object.entries(definition.contract.requests)) {
    if (!request.subject.startsWith(`${definition.name}.`)) throw new Error(`request ${name} subject ${request.subject} must start with ${definition.name}.`);
  }
  for (const [name, event] of Object.entries(definition.contract.events)) {
    if (!event.subject.startsWith(`events.${definition.name}.`)) throw new Error(`event ${name} subject ${event.subject} must start with events.${definition.name}.`);
  }
  return Object.freeze(definition);
}

/** Declares an event consumer with its handler typed by the event's schema. */
export function consumeEvent<E extends EventContract>(spec: ConsumerSpec<E>): ConsumerSpec<E> {
  return spec;
}
