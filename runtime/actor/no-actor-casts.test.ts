import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { test } from "node:test";

// Issue 13: `defineActor` types every actor so that `startActor` and the actor list take it as it
// is. A cast of an actor through `unknown` means that stopped being true somewhere.
const ACTOR_CAST = /as unknown as (ActorDefinition|Actor)\b/;

test("no source file casts an actor definition through unknown", () => {
  const root = new URL("../../", import.meta.url);
  const files = execFileSync("git", ["ls-files", "*.ts"], { cwd: root, encoding: "utf8" }).split("\n").filter(Boolean);
  assert.ok(files.length > 100, "the repository's TypeScript files were listed");
  const casts = files.flatMap((file) => readFileSync(new URL(file, root), "utf8").split("\n")
    .flatMap((line, index) => (ACTOR_CAST.test(line) ? [`${file}:${index + 1}`] : [])));
  assert.deepEqual(casts, []);
});
