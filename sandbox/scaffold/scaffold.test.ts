import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { access, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { actors } from "../../actors/index.ts";
import { runMesh } from "../cli/program.ts";
import { useProjectCopy } from "./project-copy.ts";

const run = promisify(execFile);
// The generated test needs sandbox/testing and sandbox/servers; the copy keeps the checkout's shape.
const root = await useProjectCopy({ folders: ["protocol", "runtime", "sandbox"] });

async function mesh(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runMesh(argv, { root, env: {}, out: (t) => void (out += t), err: (t) => void (err += t) });
  return { code, out, err };
}

const exists = (path: string) => access(join(root, path)).then(() => true, () => false);

test("bad names and existing actors are refused with a clear reason, and nothing is written", async () => {
  const index = await readFile(join(root, "actors", "index.ts"), "utf8");
  const protocolIndex = await readFile(join(root, "protocol", "index.ts"), "utf8");
  const cases: Array<[string, RegExp]> = [
    ["Demo_Notes", /"Demo_Notes" is not a valid actor name: 3 to 32 characters, lower-case letters/],
    ["x", /"x" is not a valid actor name/],
    ["notes-", /"notes-" is not a valid actor name/],
    ["a--b", /no double dashes/],
    ["index", /"index" is reserved/],
    ["tenants", /actors\/tenants\/ already exists/],
  ];
  for (const [name, reason] of cases) {
    const { code, err } = await mesh("new", name);
    assert.equal(code, 1, name);
    assert.match(err, reason);
  }
  assert.equal((await mesh("new")).code, 2, "missing argument");
  assert.equal(await readFile(join(root, "actors", "index.ts"), "utf8"), index);
  assert.equal(await readFile(join(root, "protocol", "index.ts"), "utf8"), protocolIndex);
  assert.equal(await exists("actors/x"), false);
});

test("mesh new demo-notes writes a registered actor that typechecks and whose own test passes against real servers", async () => {
  const { code, out } = await mesh("new", "demo-notes");
  assert.equal(code, 0);
  for (const file of ["actors/demo-notes/actor.ts", "actors/demo-notes/handlers.ts", "actors/demo-notes/README.md", "actors/demo-notes/demo-notes.test.ts", "protocol/demo-notes.ts"]) {
    assert.ok(await exists(file), file);
    assert.match(out, new RegExp(`\\+ ${file}`));
  }
  assert.match(await readFile(join(root, "actors", "index.ts"), "utf8"), /"demo-notes": async \(\) => \(await import\("\.\/demo-notes\/actor\.ts"\)\)\.demoNotesActor,/);
  assert.match(await readFile(join(root, "protocol", "index.ts"), "utf8"), /export \* from "\.\/demo-notes\.ts";\n$/);
  assert.match((await mesh("new", "demo-notes")).err, /actors\/demo-notes\/ already exists/);

  // Only the generated files (and what they import), so others' work in progress cannot interfere.
  await writeFile(join(root, "tsconfig.generated.json"), JSON.stringify({ extends: "./tsconfig.json", include: ["actors/demo-notes", "protocol/demo-notes.ts", "actors/index.ts"] }));
  await run(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "--noEmit", "-p", "tsconfig.generated.json"], { cwd: root });

  // Same MONGO_URL and nats-server binary as this test (set by sandbox/test-run.ts); without
  // NODE_TEST_CONTEXT, which would make the inner runner report to ours instead of printing.
  const { NODE_TEST_CONTEXT: _ours, ...env } = process.env;
  const result = await run(process.execPath, ["--import", "tsx", "--test", "--test-reporter=tap", "actors/demo-notes/demo-notes.test.ts"], { cwd: root, env })
    .catch((error: { stdout?: string; stderr?: string }) => ({ stdout: `${error.stdout ?? ""}\n${error.stderr ?? ""}` }));
  assert.match(result.stdout, /^# pass 4$/m, result.stdout);
  assert.match(result.stdout, /^# fail 0$/m);
});

test("mesh check accepts the new actor, and fails on one clear line once its README is gone", async () => {
  const accepted = await mesh("check");
  assert.equal(accepted.code, 0, accepted.err);
  const expected = [...Object.keys(actors), "demo-notes"].sort();
  assert.match(accepted.out, new RegExp(`^all ${expected.length} actors conform \\(${expected.join(", ")}\\)`));
  await rm(join(root, "actors", "demo-notes", "README.md"));
  const rejected = await mesh("check");
  assert.equal(rejected.code, 1);
  assert.equal(rejected.err.split("\n")[0], "actors/demo-notes: README.md is missing");
  assert.equal(rejected.err.split("\n").filter((line) => line.startsWith("actors/")).length, 1);
});
