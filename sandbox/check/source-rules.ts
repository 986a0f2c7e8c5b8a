import { readdir, readFile } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";

export interface ImportRef {
  readonly specifier: string;
  /** `import type` / `export type`: erased at run time. */
  readonly typeOnly: boolean;
}

/** Block comments and whole-line `//` comments removed (a `//` inside a string, like a URL, stays). */
function withoutComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
}

/** Every static and dynamic import or re-export in a TypeScript source. */
export function importsOf(source: string): ImportRef[] {
  const code = withoutComments(source);
  const found: ImportRef[] = [];
  for (const match of code.matchAll(/\b(import|export)\s+(type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?["']([^"']+)["']/g)) {
    found.push({ specifier: match[3]!, typeOnly: Boolean(match[2]) });
  }
  for (const match of code.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) found.push({ specifier: match[1]!, typeOnly: false });
  return found;
}

export async function listFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== "node_modules") files.push(...(await listFiles(path)));
    else if (entry.isFile()) files.push(path);
  }
  return files.sort();
}

/** Test code: `*.test.ts`, `test-support.ts` and anything under a `testing/` folder. */
export function isTestCode(pathInActor: string): boolean {
  return pathInActor.endsWith(".test.ts") || /(^|[\\/])test-support\.ts$/.test(pathInActor) || /(^|[\\/])testing[\\/]/.test(pathInActor);
}

/**
 * An actor's code may reach its data only through `context.store` and other actors only
 * through `protocol/`: no import from another actor's folder, no mongodb driver, no
 * `.db(...)` handle. Test code is exempt: it may start other actors as dependencies and
 * use the driver to look at what the actor stored.
 */
export async function sourceViolations(root: string, actor: string, otherActors: readonly string[]): Promise<string[]> {
  const actorsDir = join(root, "actors");
  const ownDir = join(actorsDir, actor);
  const violations: string[] = [];
  for (const file of (await listFiles(ownDir)).filter((f) => f.endsWith(".ts"))) {
    const shown = relative(ownDir, file);
    if (isTestCode(shown)) continue;
    const source = await readFile(file, "utf8");
    for (const ref of importsOf(source)) {
      if (ref.specifier === "mongodb" && !ref.typeOnly) {
        violations.push(`${shown} imports the mongodb driver; reach the actor's data through context.store`);
      }
      if (!ref.specifier.startsWith(".")) continue;
      const target = resolve(dirname(file), ref.specifier);
      const inActors = relative(actorsDir, target);
      if (inActors.startsWith("..") || target.startsWith(ownDir + sep)) continue;
      violations.push(`${shown} imports actors/${inActors.split(sep).join("/")}; talk to other actors through protocol/ and context.mesh`);
    }
    const code = withoutComments(source);
    if (/\bMongoClient\b/.test(code)) violations.push(`${shown} uses MongoClient; reach the actor's data through context.store`);
    if (/\.db\(/.test(code)) violations.push(`${shown} opens a database handle (.db(...)); an actor uses only its own, through context.store`);
    for (const other of otherActors) {
      // "ai_capacity" is unmistakable; a bare "tenants" is too common a word, so only "<prefix>_tenants" counts
      const database = other.replaceAll("-", "_");
      const prefix = database.includes("_") ? "(\\w+_)?" : "\\w+_";
      const named = new RegExp(`["'\`](${prefix}${database})["'\`]`).exec(code);
      if (named) violations.push(`${shown} names the database of actor ${other} ("${named[1]}"); another actor's data comes through its protocol`);
    }
  }
  return violations;
}
