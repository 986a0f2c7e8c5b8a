import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { actors } from "../../actors/index.ts";
import { runMesh } from "../cli/program.ts";
import { useProjectCopy } from "../scaffold/project-copy.ts";
import { checkProject } from "./check-project.ts";

const root = await useProjectCopy();

async function meshCheck(): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runMesh(["check"], { root, env: {}, out: (t) => void (out += t), err: (t) => void (err += t) });
  return { code, out, err };
}

test("the registered actors of the checkout conform, and mesh check says so", async () => {
  const { code, out, err } = await meshCheck();
  assert.equal(err, "");
  assert.equal(code, 0);
  assert.match(out, new RegExp(`^all ${Object.keys(actors).length} actors conform`));
});

test("a missing README is reported on one precise line and fails the check", async () => {
  const readme = join(root, "actors", "tenants", "README.md");
  const kept = await import("node:fs/promises").then((fs) => fs.readFile(readme, "utf8"));
  await rm(readme);
  try {
    const { code, err } = await meshCheck();
    assert.equal(code, 1);
    assert.deepEqual(err.trim().split("\n").filter((line) => line.startsWith("actors/")), ["actors/tenants: README.md is missing"]);
  } finally {
    await writeFile(readme, kept);
  }
});

test("bad actors: every rule names the file and what is wrong", async () => {
  const rogue = join(root, "actors", "rogue");
  await mkdir(rogue);
  await writeFile(join(rogue, "handlers.ts"), [
    'import { MongoClient } from "mongodb";',
    'import type { Filter } from "mongodb";',
    'import { getTenant } from "../tenants/handlers.ts";',
    'export const peek = (c: MongoClient) => c.db("sandbox_tenants");',
    "export type F = Filter<{ a: 1 }>;",
    "export { getTenant };",
  ].join("\n"));
  await writeFile(join(rogue, "README.md"), "# rogue\n\n## Subjects\n\nnone\n");
  await writeFile(join(root, "protocol", "rogue.ts"), [
    'import { z } from "zod";',
    'export const rogueContract = { actor: "rogue", requests: { get: { subject: "Rogue.Get", input: z.object({}), output: z.object({}) } },',
    '  events: { seen: { subject: "rogue.seen", schema: {} } } };',
  ].join("\n"));
  await mkdir(join(root, "actors", "Bad_Name"));
  try {
    const { violations } = await checkProject(root);
    assert.deepEqual(violations.filter((v) => /^actors\/(rogue|Bad_Name):/.test(v)), [
      "actors/Bad_Name: the name breaks the naming rule /^[a-z][a-z0-9-]{1,30}[a-z0-9]$/ (protocol/subjects.ts)",
      "actors/Bad_Name: actor.ts is missing",
      "actors/Bad_Name: protocol/Bad_Name.ts is missing (the actor's contract: subjects and zod schemas)",
      "actors/Bad_Name: README.md is missing",
      "actors/Bad_Name: has no test (*.test.ts)",
      "actors/Bad_Name: is not registered in actors/index.ts",
      "actors/rogue: actor.ts is missing",
      'actors/rogue: protocol/rogue.ts: request get has subject "Rogue.Get"; requests are rogue.<verb> in lower case with dashes',
      'actors/rogue: protocol/rogue.ts: event seen has subject "rogue.seen"; events are events.rogue.<event> in lower case with dashes',
      "actors/rogue: protocol/rogue.ts: event seen needs a zod schema",
      "actors/rogue: protocol/index.ts does not re-export protocol/rogue.ts",
      'actors/rogue: README.md has no "Data" section',
      'actors/rogue: README.md has no "Events" section',
      'actors/rogue: README.md has no "Limits" section',
      "actors/rogue: README.md does not mention subject Rogue.Get",
      "actors/rogue: README.md does not mention subject rogue.seen",
      "actors/rogue: has no test (*.test.ts)",
      "actors/rogue: is not registered in actors/index.ts",
      "actors/rogue: handlers.ts imports the mongodb driver; reach the actor's data through context.store",
      "actors/rogue: handlers.ts imports actors/tenants/handlers.ts; talk to other actors through protocol/ and context.mesh",
      "actors/rogue: handlers.ts uses MongoClient; reach the actor's data through context.store",
      "actors/rogue: handlers.ts opens a database handle (.db(...)); an actor uses only its own, through context.store",
      'actors/rogue: handlers.ts names the database of actor tenants ("sandbox_tenants"); another actor\'s data comes through its protocol',
    ]);
    assert.deepEqual(violations.filter((v) => !/^actors\/(rogue|Bad_Name):/.test(v)), [], "the registered actors still conform");
  } finally {
    await rm(rogue, { recursive: true, force: true });
    await rm(join(root, "actors", "Bad_Name"), { recursive: true, force: true });
    await rm(join(root, "protocol", "rogue.ts"), { force: true });
  }
});
