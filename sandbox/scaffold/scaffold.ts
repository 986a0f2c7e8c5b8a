import { access, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { actorNames, type ActorNames } from "./names.ts";
import { actorTemplate, handlersTemplate, protocolTemplate, readmeTemplate, testTemplate } from "./templates.ts";

export class ScaffoldError extends Error {}

export interface ScaffoldResult {
  readonly created: readonly string[];
  readonly updated: readonly string[];
}

const exists = (path: string) => access(path).then(() => true, () => false);

/** actors/index.ts with the new actor listed as a lazy factory; throws when its shape is not the expected one. */
export function registerInIndex(source: string, n: ActorNames): string {
  const key = /^[a-z][a-z0-9]*$/.test(n.actor) ? n.actor : `"${n.actor}"`;
  const listed = new RegExp(`^\\s*(${n.actor}|"${n.actor}"|'${n.actor}')\\s*:`, "m");
  if (listed.test(source)) throw new ScaffoldError(`actor ${n.actor} is already registered in actors/index.ts`);
  const start = source.indexOf("export const actors");
  const end = start < 0 ? -1 : source.indexOf("\n};", start);
  if (end < 0) {
    throw new ScaffoldError(`actors/index.ts does not have the expected shape (\`export const actors = { ... };\`): register ${n.camel}Actor by hand`);
  }
  const entry = `\n  ${key}: async () => (await import("./${n.actor}/actor.ts")).${n.camel}Actor,`;
  return source.slice(0, end) + entry + source.slice(end);
}

/**
 * `mesh new <actor>`: writes a conforming actor (definition, handlers, README, a test against
 * real servers), its contract in protocol/, and registers both. Refuses a bad name or an actor
 * that exists in any form; on a failure half way, removes what it wrote.
 */
export async function scaffoldActor(root: string, name: string): Promise<ScaffoldResult> {
  const names = actorNames(name);
  if (typeof names === "string") throw new ScaffoldError(names);
  const dir = join(root, "actors", name);
  const protocolFile = join(root, "protocol", `${name}.ts`);
  const indexFile = join(root, "actors", "index.ts");
  const protocolIndex = join(root, "protocol", "index.ts");
  if (await exists(dir)) throw new ScaffoldError(`actors/${name}/ already exists; choose another name or edit that actor`);
  if (await exists(protocolFile)) throw new ScaffoldError(`protocol/${name}.ts already exists; choose another name`);
  const index = await readFile(indexFile, "utf8").catch(() => {
    throw new ScaffoldError(`${indexFile} not found: run mesh new from a Meshwork checkout`);
  });
  const registered = registerInIndex(index, names);
  const protocolExports = await readFile(protocolIndex, "utf8");

  const files: Array<[string, string]> = [
    [protocolFile, protocolTemplate(names)],
    [join(dir, "actor.ts"), actorTemplate(names)],
    [join(dir, "handlers.ts"), handlersTemplate(names)],
    [join(dir, "README.md"), readmeTemplate(names)],
    [join(dir, `${name}.test.ts`), testTemplate(names)],
  ];
  const created: string[] = [];
  let madeDir = false;
  try {
    await mkdir(dir);
    madeDir = true;
    for (const [path, content] of files) {
      await writeFile(path, content, { flag: "wx" });
      created.push(path);
    }
    await writeFile(indexFile, registered);
    await writeFile(protocolIndex, `${protocolExports.trimEnd()}\nexport * from "./${name}.ts";\n`);
  } catch (error) {
    await writeFile(indexFile, index);
    await writeFile(protocolIndex, protocolExports);
    for (const path of created) await rm(path, { force: true });
    if (madeDir) await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const shown = (path: string) => path.slice(root.length + 1);
  return { created: created.map(shown), updated: [shown(indexFile), shown(protocolIndex)] };
}
