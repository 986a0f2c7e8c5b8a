import assert from "node:assert/strict";
import { test } from "node:test";
import { ActorMetrics } from "./metrics.ts";

function series(exposition: string, name: string, labels: Record<string, string>): number | undefined {
  const line = exposition.split("\n").find((text) => text.startsWith(`${name}{`) && Object.entries(labels).every(([key, value]) => text.includes(`${key}="${value}"`)));
  return line === undefined ? undefined : Number(line.split(" ").at(-1));
}

test("AI usage counted between scrapes appears in full at each scrape, per tenant, service and model", async () => {
  const metrics = new ActorMetrics("llm", "llm-1");
  const acme = { tenant: "acme", service: "checkout", model: "gpt-4o-mini" };
  const globex = { tenant: "globex", service: "search", model: "gpt-4o" };
  metrics.addAiUsage(acme, { promptTokens: 10, completionTokens: 5, costUsd: 0.25 });
  metrics.addAiUsage(acme, { promptTokens: 7, completionTokens: 0, costUsd: 0.5 });
  metrics.addAiUsage(globex, { promptTokens: 0, completionTokens: 0, costUsd: 0 });
  let exposition = await metrics.registry.metrics();
  assert.equal(series(exposition, "mesh_ai_tokens_total", { ...acme, kind: "prompt" }), 17);
  assert.equal(series(exposition, "mesh_ai_tokens_total", { ...acme, kind: "completion" }), 5);
  assert.equal(series(exposition, "mesh_ai_cost_usd_total", acme), 0.75);
  assert.equal(series(exposition, "mesh_ai_tokens_total", { ...globex, kind: "prompt" }), 0, "a call that used nothing still has its series");

  exposition = await metrics.registry.metrics();
  assert.equal(series(exposition, "mesh_ai_tokens_total", { ...acme, kind: "prompt" }), 17, "a second scrape with nothing new counts nothing twice");
  metrics.addAiUsage(acme, { promptTokens: 3, completionTokens: 2, costUsd: 0.25 });
  exposition = await metrics.registry.metrics();
  assert.equal(series(exposition, "mesh_ai_tokens_total", { ...acme, kind: "prompt" }), 20);
  assert.equal(series(exposition, "mesh_ai_tokens_total", { ...acme, kind: "completion" }), 7);
  assert.equal(series(exposition, "mesh_ai_cost_usd_total", acme), 1);
});
