/**
 * No Docker engine runs here, so the Dockerfile is checked with dockerfile-utils (the validator
 * behind the VS Code Docker language server) and its production stage read with dockerfile-ast.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { DockerfileParser, type Copy, type Instruction, type JSONInstruction, type PropertyInstruction } from "dockerfile-ast";
import { validate } from "dockerfile-utils";
import { PRODUCTION_ENV, PRODUCTION_NODE_FLAGS } from "./build/production-build.ts";

const text = await readFile(new URL("../Dockerfile", import.meta.url), "utf8");
const dockerfile = DockerfileParser.parse(text);
const stages = dockerfile.getFROMs();
const finalStageLine = stages.at(-1)!.getRange().start.line;
const finalStage = dockerfile.getInstructions().filter((instruction) => instruction.getRange().start.line >= finalStageLine);
const only = (keyword: string): Instruction[] => finalStage.filter((instruction) => instruction.getKeyword() === keyword);
const jsonOf = (instruction: Instruction | undefined) => (instruction as JSONInstruction | undefined)?.getJSONStrings().map((s) => JSON.parse(s.getValue()) as string) ?? [];

test("the Dockerfile has no syntax or instruction errors", () => {
  assert.deepEqual(validate(text).map((d) => `line ${d.range.start.line + 1}: ${d.message}`), []);
});

test("the validator does flag a broken Dockerfile", () => {
  assert.ok(validate("FROM node:20\nRUNN npm ci\n").length > 0);
});

test("multi-stage: the production stage copies only package.json and the compiled dist/ from the build stage", () => {
  assert.ok(stages.length >= 2, "a build stage and a production stage");
  const buildStage = stages[0]!.getBuildStage();
  assert.ok(buildStage);
  const copies = (only("COPY") as Copy[]).map((copy) => [copy.getFromFlag()?.getValue(), ...copy.getArguments().map((a) => a.getValue())]);
  assert.deepEqual(copies, [[buildStage, "/app/package.json", "./"], [buildStage, "/app/dist", "./dist"]]);
  assert.equal(only("RUN").some((run) => /npm (ci|install)/.test(run.getArgumentsContent() ?? "")), false, "no packages installed in the production stage");
});

test("the production stage runs as a non-root user", () => {
  const user = only("USER").at(-1)?.getArgumentsContent();
  assert.ok(user && !/^(root|0)(:|$)/.test(user), `USER ${user}`);
});

test("tini is PID 1, so SIGTERM reaches node's drain; node runs the compiled replica with the production flags", () => {
  assert.deepEqual(jsonOf(only("ENTRYPOINT").at(-1)), ["/usr/bin/tini", "--", "node", ...PRODUCTION_NODE_FLAGS]);
  assert.deepEqual(jsonOf(only("CMD").at(-1)), ["dist/actors/main.js", "tenants"]);
  const env = new Map(only("ENV").flatMap((instruction) => (instruction as PropertyInstruction).getProperties().map((p) => [p.getName(), p.getValue()] as const)));
  for (const [name, value] of Object.entries(PRODUCTION_ENV)) assert.equal(env.get(name), value, `ENV ${name}`);
  assert.ok(env.has("METRICS_PORT"));
});

test("the health check asks the actor's /healthz on METRICS_PORT", () => {
  const healthcheck = dockerfile.getHEALTHCHECKs().at(-1)?.getArgumentsContent() ?? "";
  assert.match(healthcheck, /process\.env\.METRICS_PORT/);
  assert.match(healthcheck, /\/healthz/);
});
