import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildProduction } from "../../sandbox/build/production-build.ts";

const outDir = await mkdtemp(join(tmpdir(), "meshwork-tracing-off-"));
after(() => rm(outDir, { recursive: true, force: true }));
const { metafile } = await buildProduction(outDir);

/** Inputs of every output a file reaches through static imports only (what loads before any dynamic import runs). */
function staticallyLoaded(entry: string): Set<string> {
  const seen = new Set<string>();
  const inputs = new Set<string>();
  const visit = (output: string) => {
    if (seen.has(output)) return;
    seen.add(output);
    const described = metafile.outputs[output]!;
    for (const input of Object.keys(described.inputs)) inputs.add(input);
    for (const imported of described.imports) if (imported.kind === "import-statement" && metafile.outputs[imported.path]) visit(imported.path);
  };
  visit(entry);
  return inputs;
}

test("a compiled replica loads no OpenTelemetry SDK or exporter unless tracing starts: they sit in chunks reached only by dynamic import", () => {
  const outputs = Object.keys(metafile.outputs);
  const main = outputs.find((file) => file.endsWith("actors/main.js"))!;
  const actorChunks = outputs.filter((file) => /chunks\/actor-[^/]+\.js$/.test(file));
  assert.ok(main && actorChunks.length >= 4);
  for (const start of [main, ...actorChunks]) {
    // esbuild places the small @opentelemetry/api module in a chunk the entry imports at once (the
    // dynamically imported SDK modules share it); it registers nothing until startTracing uses it.
    const otel = [...staticallyLoaded(start)].filter((input) => input.includes("@opentelemetry/") && !input.includes("@opentelemetry/api/"));
    assert.deepEqual(otel, [], `${start} loads OpenTelemetry statically`);
  }
  // It is in the build, behind the dynamic import of startTracing.
  assert.ok(outputs.some((file) => Object.keys(metafile.outputs[file]!.inputs).some((input) => input.includes("@opentelemetry/sdk-trace-base/"))));
});
