import { ACTOR_NAME } from "../../protocol/subjects.ts";

export interface ActorNames {
  /** `demo-notes`: folder, subjects, queue group. */
  readonly actor: string;
  /** `demoNotes`: prefix of the exported constants (`demoNotesActor`, `demoNotesContract`). */
  readonly camel: string;
  /** `DemoNotes`: prefix of the exported schemas. */
  readonly pascal: string;
  /** `demo_notes`: the database name (before the deployment's prefix). */
  readonly database: string;
}

/** Words that would make the generated identifiers collide with the language or the project. */
const RESERVED = new Set(["index", "main", "protocol", "runtime", "sandbox", "events", "dlq", "mesh", "node-modules"]);

/** The names derived from an actor name, or an explanation of why the name is refused. */
export function actorNames(actor: string): ActorNames | string {
  if (!ACTOR_NAME.test(actor)) {
    return `"${actor}" is not a valid actor name: 3 to 32 characters, lower-case letters, digits and dashes, starting with a letter and not ending with a dash (${ACTOR_NAME})`;
  }
  if (actor.includes("--")) return `"${actor}" is not a valid actor name: no double dashes (they separate consumer names)`;
  if (RESERVED.has(actor)) return `"${actor}" is reserved; choose a name that says what the actor does`;
  const camel = actor.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
  return { actor, camel, pascal: camel[0]!.toUpperCase() + camel.slice(1), database: actor.replaceAll("-", "_") };
}
