/**
 * Subject naming rules (enforced by `mesh check`):
 * - requests: `<actor>.<verb>` in lower case with dashes, e.g. `tenants.get`, `ai-capacity.lease`;
 * - events: `events.<actor>.<event>`, e.g. `events.tenants.updated`, kept in the producing
 *   actor's stream `EVENTS_<ACTOR>` (upper case, dashes as underscores);
 * - dead letters: `dlq.<consumer-actor>.<event-subject>`, in the stream `DLQ_<ACTOR>`;
 * - queue group of every request subscription: the actor's name.
 */
export const ACTOR_NAME = /^[a-z][a-z0-9-]{1,30}[a-z0-9]$/;

export function requestSubject(actor: string, verb: string): string {
  return `${actor}.${verb}`;
}

export function eventSubject(actor: string, event: string): string {
  return `events.${actor}.${event}`;
}

export function streamName(actor: string): string {
  return `EVENTS_${actor.toUpperCase().replaceAll("-", "_")}`;
}

export function deadLetterStreamName(actor: string): string {
  return `DLQ_${actor.toUpperCase().replaceAll("-", "_")}`;
}

export function deadLetterSubject(actor: string, originalSubject: string): string {
  return `dlq.${actor}.${originalSubject}`;
}
