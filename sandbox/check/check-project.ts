import { access, readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import type { ActorContract } from "../../protocol/contract.ts";
import { ACTOR_NAME } from "../../protocol/subjects.ts";
import { contractViolations, findContract, subjectsOf } from "./contract-rules.ts";
import { readmeViolations } from "./readme-rules.ts";
import { callViolations, type SourceFile } from "./call-rules.ts";
import { isTestCode, listFiles, sourceViolations } from "./source-rules.ts";
import { staleDocs } from "../docs/generated-docs.ts";
import type { Actor } from "../../runtime/index.ts";
import type { ActorFactory } from "../../actors/index.ts";

export interface CheckResult {
  /** Every actor looked at: registered in actors/index.ts or with a folder in actors/. */
  readonly actors: readonly string[];
  /** One line per violation, `actors/<name>: <what is wrong>`, sorted. */
  readonly violations: readonly string[];
}

/** A definition as a factory of actors/index.ts returns it. */
type Registered = Actor;

const exists = (path: string) => access(path).then(() => true, () => false);
const firstLine = (error: unknown) => (error instanceof Error ? error.message : String(error)).split("\n")[0];
let loads = 0;

async function actorFolders(root: string): Promise<string[]> {
  const entries = await readdir(join(root, "actors"), { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory()).map((e) => e.name);
}

/**
 * actors/index.ts, loaded afresh (a query busts the module cache after `mesh new`), and each
 * registered actor's definition through its factory; an actor whose factory fails is reported
 * by name, not as a failure of the whole index.
 */
async function registeredActors(root: string): Promise<Map<string, Registered | string>> {
  const url = `${pathToFileURL(join(root, "actors", "index.ts")).href}?check=${++loads}`;
  const module = (await import(url)) as { actors?: Record<string, ActorFactory | unknown> };
  if (!module.actors || typeof module.actors !== "object") throw new Error("it exports no `actors` record");
  const registered = new Map<string, Registered | string>();
  for (const [name, factory] of Object.entries(module.actors)) {
    if (typeof factory !== "function") {
      registered.set(name, "actors/index.ts lists it without a factory (`name: async () => (await import(\"./<name>/actor.ts\")).<name>Actor`)");
      continue;
    }
    try {
      registered.set(name, await (factory as ActorFactory)());
    } catch (error) {
      registered.set(name, `its factory in actors/index.ts fails: ${firstLine(error)}`);
    }
  }
  return registered;
}

async function loadContract(root: string, actor: string): Promise<ActorContract | string> {
  try {
    // No cache-busting query here: the contract must be the very object actor.ts imports.
    const exports = (await import(pathToFileURL(join(root, "protocol", `${actor}.ts`)).href)) as Record<string, unknown>;
    return findContract(exports, actor) ?? `protocol/${actor}.ts exports no contract for actor "${actor}" (defineContract({ actor: "${actor}", ... }))`;
  } catch (error) {
    return `protocol/${actor}.ts cannot be loaded: ${firstLine(error)}`;
  }
}

/** The actor's non-test sources, for the rules that read code. */
async function actorSources(dir: string): Promise<SourceFile[]> {
  const files = (await listFiles(dir)).filter((file) => file.endsWith(".ts") && !isTestCode(relative(dir, file)));
  return Promise.all(files.map(async (path) => ({ path, shown: relative(dir, path), source: await readFile(path, "utf8") })));
}

/** Every actor's contract that loads (others' contracts tell what a call needs). */
async function loadContracts(root: string, actors: readonly string[]): Promise<Map<string, ActorContract>> {
  const contracts = new Map<string, ActorContract>();
  for (const actor of actors) {
    const loaded = await loadContract(root, actor);
    if (typeof loaded !== "string") contracts.set(actor, loaded);
  }
  return contracts;
}

async function actorViolations(root: string, actor: string, registered: Map<string, Registered | string> | undefined, all: readonly string[], contracts: ReadonlyMap<string, ActorContract>): Promise<string[]> {
  const dir = join(root, "actors", actor);
  const found: string[] = [];
  if (!ACTOR_NAME.test(actor)) found.push(`the name breaks the naming rule ${ACTOR_NAME} (protocol/subjects.ts)`);
  if (!(await exists(dir))) return [...found, `registered in actors/index.ts but actors/${actor}/ does not exist`];
  if (!(await exists(join(dir, "actor.ts")))) found.push("actor.ts is missing");

  let contract: ActorContract | undefined;
  if (!(await exists(join(root, "protocol", `${actor}.ts`)))) {
    found.push(`protocol/${actor}.ts is missing (the actor's contract: subjects and zod schemas)`);
  } else {
    const loaded = await loadContract(root, actor);
    if (typeof loaded === "string") found.push(loaded);
    else {
      contract = loaded;
      found.push(...contractViolations(contract, actor));
    }
    const index = await readFile(join(root, "protocol", "index.ts"), "utf8").catch(() => "");
    if (!index.includes(`"./${actor}.ts"`)) found.push(`protocol/index.ts does not re-export protocol/${actor}.ts`);
  }

  const readme = await readFile(join(dir, "README.md"), "utf8").catch(() => undefined);
  if (readme === undefined) found.push("README.md is missing");
  else found.push(...readmeViolations(readme, contract ? subjectsOf(contract) : []));

  if (!(await listFiles(dir)).some((file) => file.endsWith(".test.ts"))) found.push("has no test (*.test.ts)");

  if (registered) {
    const definition = registered.get(actor);
    if (!definition) found.push("is not registered in actors/index.ts");
    else if (typeof definition === "string") found.push(definition);
    else {
      if (definition.name !== actor) found.push(`actors/index.ts registers actor "${definition.name}" under the name ${actor}`);
      if (contract && definition.contract !== contract) found.push(`actor.ts does not use the contract exported by protocol/${actor}.ts`);
      found.push(...callViolations(await actorSources(dir), definition, contracts, join(root, "protocol")));
    }
  }
  found.push(...(await sourceViolations(root, actor, all.filter((other) => other !== actor))));
  return found;
}

/** Checks every actor of the project at `root` against the template. */
export async function checkProject(root: string): Promise<CheckResult> {
  const violations: string[] = [];
  let registered: Map<string, Registered | string> | undefined;
  try {
    registered = await registeredActors(root);
  } catch (error) {
    violations.push(`actors/index.ts: cannot be loaded: ${firstLine(error)}`);
  }
  const actors = [...new Set([...(await actorFolders(root)), ...(registered?.keys() ?? [])])].sort();
  const contracts = await loadContracts(root, actors);
  for (const actor of actors) {
    for (const violation of await actorViolations(root, actor, registered, actors, contracts)) violations.push(`actors/${actor}: ${violation}`);
  }
  // The generated docs are compared only when every definition loads (otherwise that is the violation to fix first).
  const definitions = [...(registered?.values() ?? [])];
  if (registered && definitions.every((definition) => typeof definition !== "string")) {
    violations.push(...(await staleDocs(root, definitions.filter((definition): definition is Registered => typeof definition !== "string"))));
  }
  return { actors, violations };
}
