import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DiagnosticSeverity, Parser } from "@asyncapi/parser";
import { HEADERS } from "../../protocol/headers.ts";
import { loadActor, actorNames } from "../../actors/index.ts";
import { CHECKOUT_ROOT } from "../cli/cli-io.ts";
import { runMesh } from "../cli/program.ts";
import { useProjectCopy } from "../scaffold/project-copy.ts";
import { DOC_FILES, loadDefinitions, staleDocs } from "./generated-docs.ts";

const root = await useProjectCopy();

async function mesh(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runMesh(argv, { root, env: {}, out: (t) => void (out += t), err: (t) => void (err += t) });
  return { code, out, err };
}

const definitions = await Promise.all(actorNames.map(async (name) => (await loadActor(name))!));

test("the committed catalogue and AsyncAPI document are what the definitions give now", async () => {
  assert.deepEqual(await staleDocs(CHECKOUT_ROOT, await loadDefinitions(CHECKOUT_ROOT)), []);
});

test("mesh docs writes an AsyncAPI 3.0 document the AsyncAPI parser accepts, with every subject, event and header", async () => {
  await writeFile(join(root, DOC_FILES.asyncApi), "");
  const { code, out } = await mesh("docs");
  assert.equal(code, 0);
  assert.match(out, /wrote protocol\/CATALOGUE\.md, protocol\/asyncapi\.json/);
  const text = await readFile(join(root, DOC_FILES.asyncApi), "utf8");
  const { document, diagnostics } = await new Parser().parse(text);
  const problems = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error || d.severity === DiagnosticSeverity.Warning);
  assert.deepEqual(problems.map((d) => `${d.code}: ${d.message} at ${d.path.join("/")}`), []);
  assert.ok(document, "the parser returned a document");
  assert.equal(document.version(), "3.0.0");

  const addresses = new Set(document.channels().all().map((channel) => channel.address()));
  for (const definition of definitions) {
    for (const request of Object.values(definition.contract.requests)) {
      assert.ok(addresses.has(request.subject), `channel for ${request.subject}`);
      const operation = document.operations().get(request.subject);
      assert.ok(operation && operation.isReceive(), `receive operation for ${request.subject}`);
      const input = operation.messages().all()[0]!.payload()!.json() as { type?: string };
      assert.equal(input.type, "object", `${request.subject} input schema`);
      const replies: (string | undefined)[] = operation.reply()!.messages().all().map((message) => message.name());
      assert.deepEqual(replies, [`${request.subject}.reply`, "ErrorReply"]);
    }
    for (const event of Object.values(definition.contract.events)) assert.ok(addresses.has(event.subject), `channel for ${event.subject}`);
  }
  const requestHeaders = document.components().schemas().get("RequestHeaders")!.properties()!;
  for (const name of [HEADERS.tenant, HEADERS.idempotencyKey, HEADERS.deadline, HEADERS.timeout, HEADERS.traceparent, HEADERS.service]) {
    assert.ok(requestHeaders[name], `request header ${name}`);
  }
  const errorCode = document.components().messages().get("ErrorReply")!.headers()!.properties()![HEADERS.errorCode]!;
  assert.ok(errorCode.enum()?.includes("OVER_BUDGET"));
  // A schema that says what the contract refuses: tenants.put's policy needs a displayName.
  const put = JSON.parse(text).components.schemas["tenants.put.input"];
  assert.ok(put.properties.policy.required.includes("displayName"));
});

test("the catalogue lists every actor with its subjects, events and consumers", async () => {
  const catalogue = await readFile(join(root, DOC_FILES.catalogue), "utf8");
  for (const definition of definitions) {
    assert.match(catalogue, new RegExp(`^## ${definition.name} ${definition.version.replaceAll(".", "\\.")}$`, "m"));
    for (const request of Object.values(definition.contract.requests)) assert.ok(catalogue.includes(`| \`${request.subject}\` |`), request.subject);
  }
  assert.match(catalogue, /\| `events\.llm\.usage` \| `EVENTS_LLM` \| `usage--usage` \|/);
});

test("mesh check fails while the committed catalogue is stale, and passes once mesh docs rewrote it", async () => {
  const file = join(root, DOC_FILES.catalogue);
  const current = await readFile(file, "utf8");
  await writeFile(file, current.replace("| `tenants.put` |", "| `tenants.replace` |"));
  const stale = await mesh("check");
  assert.equal(stale.code, 1);
  assert.match(stale.err, /^protocol\/CATALOGUE\.md: stale \(the definitions or contracts changed\); run `npx mesh docs` and commit it$/m);
  assert.equal((await mesh("docs")).code, 0);
  assert.equal((await mesh("check")).code, 0);
});

test("mesh docs names an actor that cannot be loaded and writes nothing", async () => {
  const index = join(root, "actors", "index.ts");
  const kept = await readFile(index, "utf8");
  const before = await readFile(join(root, DOC_FILES.asyncApi), "utf8");
  await writeFile(index, kept.replace('llm: async () => (await import("./llm/actor.ts")).llmActor', 'llm: async () => { throw new Error("broken on purpose"); }'));
  try {
    const { code, err } = await mesh("docs");
    assert.equal(code, 1);
    assert.equal(err, "mesh docs: actor llm cannot be loaded: broken on purpose; nothing written\n");
    assert.equal(await readFile(join(root, DOC_FILES.asyncApi), "utf8"), before);
  } finally {
    await writeFile(index, kept);
  }
});
