import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import type { ActorDefinition } from "../../runtime/index.ts";
import { actorCatalogue } from "./actor-catalogue.ts";
import { asyncApiDocument } from "./asyncapi-document.ts";
import { actorsYaml } from "../deploy/actors-yaml.ts";

/** Where `mesh docs` writes, relative to the checkout (committed; `mesh check` compares). */
export const DOC_FILES = {
  catalogue: join("protocol", "CATALOGUE.md"),
  asyncApi: join("protocol", "asyncapi.json"),
  kubernetes: join("deploy", "kubernetes", "actors.yaml"),
} as const;

let loads = 0;

/** Every registered actor's definition of the checkout at `root` (its actors/index.ts, loaded afresh). */
export async function loadDefinitions(root: string): Promise<ActorDefinition[]> {
  const module = (await import(`${pathToFileURL(join(root, "actors", "index.ts")).href}?docs=${++loads}`)) as { actors: Record<string, () => Promise<ActorDefinition>> };
  return Promise.all(Object.entries(module.actors).map(([name, factory]) => factory().catch((error: unknown) => {
    throw new Error(`actor ${name} cannot be loaded: ${(error instanceof Error ? error.message : String(error)).split("\n")[0]}`);
  })));
}

/** The two generated files' contents. */
export async function renderDocs(root: string, definitions: readonly ActorDefinition[]): Promise<Record<keyof typeof DOC_FILES, string>> {
  const { version } = JSON.parse(await readFile(join(root, "package.json"), "utf8")) as { version: string };
  return {
    catalogue: actorCatalogue(definitions),
    asyncApi: `${JSON.stringify(asyncApiDocument(definitions, version), null, 2)}\n`,
    kubernetes: actorsYaml(definitions),
  };
}

export async function writeDocs(root: string, definitions: readonly ActorDefinition[]): Promise<string[]> {
  const rendered = await renderDocs(root, definitions);
  const written: string[] = [];
  for (const name of Object.keys(DOC_FILES) as (keyof typeof DOC_FILES)[]) {
    await mkdir(dirname(join(root, DOC_FILES[name])), { recursive: true });
    await writeFile(join(root, DOC_FILES[name]), rendered[name]);
    written.push(DOC_FILES[name]);
  }
  return written;
}

/** One line per generated file that differs from what the definitions give now. */
export async function staleDocs(root: string, definitions: readonly ActorDefinition[]): Promise<string[]> {
  const rendered = await renderDocs(root, definitions);
  const stale: string[] = [];
  for (const name of Object.keys(DOC_FILES) as (keyof typeof DOC_FILES)[]) {
    const committed = await readFile(join(root, DOC_FILES[name]), "utf8").catch(() => undefined);
    if (committed === undefined) stale.push(`${DOC_FILES[name]}: missing; run \`npx mesh docs\``);
    else if (committed !== rendered[name]) stale.push(`${DOC_FILES[name]}: stale (the definitions or contracts changed); run \`npx mesh docs\` and commit it`);
  }
  return stale;
}
