import type { ActorContract } from "../../protocol/contract.ts";

const VERB = /^[a-z][a-z0-9-]*$/;

function isSchema(value: unknown): boolean {
  return typeof value === "object" && value !== null && typeof (value as { safeParse?: unknown }).safeParse === "function";
}

function looksLikeContract(value: unknown): value is ActorContract {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as Partial<ActorContract>;
  return typeof candidate.actor === "string" && typeof candidate.requests === "object" && typeof candidate.events === "object";
}

/** The contract for `actor` among a protocol module's exports. */
export function findContract(exports: Record<string, unknown>, actor: string): ActorContract | undefined {
  return Object.values(exports).find((value): value is ActorContract => looksLikeContract(value) && value.actor === actor);
}

/**
 * The naming rules of protocol/subjects.ts: requests `<actor>.<verb>`, events
 * `events.<actor>.<event>`, lower case with dashes; every message has a zod schema.
 */
export function contractViolations(contract: ActorContract, actor: string): string[] {
  const violations: string[] = [];
  for (const [name, request] of Object.entries(contract.requests)) {
    const verb = request.subject.startsWith(`${actor}.`) ? request.subject.slice(actor.length + 1) : undefined;
    if (verb === undefined || !VERB.test(verb)) {
      violations.push(`protocol/${actor}.ts: request ${name} has subject "${request.subject}"; requests are ${actor}.<verb> in lower case with dashes`);
    }
    if (!isSchema(request.input) || !isSchema(request.output)) {
      violations.push(`protocol/${actor}.ts: request ${name} needs zod input and output schemas`);
    }
  }
  for (const [name, event] of Object.entries(contract.events)) {
    const eventName = event.subject.startsWith(`events.${actor}.`) ? event.subject.slice(`events.${actor}.`.length) : undefined;
    if (eventName === undefined || !VERB.test(eventName)) {
      violations.push(`protocol/${actor}.ts: event ${name} has subject "${event.subject}"; events are events.${actor}.<event> in lower case with dashes`);
    }
    if (!isSchema(event.schema)) violations.push(`protocol/${actor}.ts: event ${name} needs a zod schema`);
  }
  return violations;
}

/** Every subject of the contract, for the README check. */
export function subjectsOf(contract: ActorContract): string[] {
  return [...Object.values(contract.requests).map((r) => r.subject), ...Object.values(contract.events).map((e) => e.subject)];
}
