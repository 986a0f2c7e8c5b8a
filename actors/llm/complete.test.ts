import assert from "node:assert/strict";
import { after, test } from "node:test";
import { MongoClient } from "mongodb";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { ask, failureOf, startLlmMesh, storedUsageEvents, sumOf, untilState, untilUsageConsumed } from "./test-support.ts";
import { callRecordsOf, type CallLogPage } from "./records.ts";

const servers = await useTestServers();
const mesh = await startLlmMesh(servers, { usage: {} });
const mongo = new MongoClient(servers.mongoUrl);
const llmDb = mongo.db(`${servers.databasePrefix}_llm`);

test("a completion runs end to end, its cost is attributed, and the usage report equals the sum of its events", async () => {
  await mesh.createTenant("acme");
  const first = await mesh.llm.complete({ ...ask("Say hello"), service: "checkout" }, { tenant: "acme" });
  assert.match(first.content ?? "", /^reply:/);
  assert.equal(first.cached, false);
  assert.equal(first.fallback, false);
  assert.ok(first.usage.promptTokens > 0 && first.usage.completionTokens > 0);
  assert.ok(first.costUsd > 0);
  await mesh.untilNothingReserved("acme");
  const status = await mesh.capacity.status({}, { tenant: "acme" });
  assert.ok(Math.abs(status.spentUsd - first.costUsd) < 1e-12, "ai-capacity booked what the caller was told");
  assert.equal(status.reservedUsd, 0);

  await mesh.llm.complete({ ...ask("Another question", { model: "gpt-4o" }), service: "search" }, { tenant: "acme" });
  await failureOf(mesh.llm.complete({ ...ask("hi"), tools: [{ name: "wire_money" }] }, { tenant: "acme" }));

  const events = await mesh.usageEvents("acme", 3);
  assert.equal(events.length, 3);
  const firstEvent = events[0]!;
  assert.deepEqual(
    { service: firstEvent.service, model: firstEvent.model, outcome: firstEvent.outcome, promptTokens: firstEvent.promptTokens, completionTokens: firstEvent.completionTokens, costUsd: firstEvent.costUsd },
    { service: "checkout", model: "gpt-4o-mini", outcome: "ok", ...first.usage, costUsd: first.costUsd },
  );
  assert.equal(events[2]!.service, "test-app", "the caller's Mw-Service header attributes a request without a service");

  await untilUsageConsumed(mesh.jsm);
  const report = await mesh.usage.report({ groupBy: "service" }, { tenant: "acme" });
  assert.equal(report.total.requests, events.length);
  assert.equal(report.total.promptTokens, sumOf(events, (e) => e.promptTokens));
  assert.equal(report.total.completionTokens, sumOf(events, (e) => e.completionTokens));
  assert.ok(Math.abs(report.total.costUsd - sumOf(events, (e) => e.costUsd)) < 1e-9);
  assert.equal(report.total.rejected, 1);
  assert.deepEqual(report.rows.map((row) => row.key), ["checkout", "search", "test-app"]);

  const exposition = await mesh.llmReplicas[0]!.metrics.registry.metrics();
  const promptLine = exposition.split("\n").find((line) => line.startsWith("mesh_ai_tokens_total") && line.includes('tenant="acme"') && line.includes('service="checkout"') && line.includes('kind="prompt"'));
  assert.equal(Number(promptLine?.split(" ").at(-1)), first.usage.promptTokens, "AI tokens are in the metrics by tenant, service and model");
});

test("prompts and outputs are not kept by default: the call log holds hashes and sizes only", async () => {
  await mesh.createTenant("quiet");
  await mesh.llm.complete(ask("my secret prompt"), { tenant: "quiet" });
  // The call record is written after the answer.
  await untilState("the call record", async () => (await llmDb.collection("call_log").countDocuments({ tenant: "quiet" })) > 0);
  const pages = await llmDb.collection("call_log").find({ tenant: "quiet" }).toArray();
  assert.equal(pages.length, 1);
  const calls = callRecordsOf(pages[0] as unknown as CallLogPage);
  assert.equal(calls.length, 1);
  assert.match(String(calls[0]!.requestHash), /^[0-9a-f]{64}$/);
  assert.ok(!JSON.stringify(pages[0]).includes("secret"), "no prompt text in the call log");
  assert.ok(calls[0]!.expiresAt instanceof Date && calls[0]!.expiresAt.getTime() > Date.now() + 6.9 * 86_400_000);
  assert.equal(await llmDb.collection("evaluation_samples").countDocuments({ tenant: "quiet" }), 0);
});

test("a tenant whose policy asks for it keeps evaluation samples for its retention days", async () => {
  await mesh.createTenant("evals", { retention: { storePrompts: true, retentionDays: 3 } });
  const result = await mesh.llm.complete(ask("grade this"), { tenant: "evals" });
  const samples = await llmDb.collection("evaluation_samples").find({ tenant: "evals" }).toArray();
  assert.equal(samples.length, 1);
  assert.deepEqual(samples[0]!.messages, [{ role: "user", content: "grade this" }]);
  assert.equal(samples[0]!.output.content, result.content);
  const expiresIn = samples[0]!.expiresAt.getTime() - Date.now();
  assert.ok(expiresIn > 2.9 * 86_400_000 && expiresIn <= 3 * 86_400_000);
});

test("a deterministic request is answered from the cache, and two tenants never share an entry", async () => {
  await mesh.createTenant("cache-a");
  await mesh.createTenant("cache-b");
  const request = ask("What is 2+2?", { temperature: 0 });
  const fresh = await mesh.llm.complete(request, { tenant: "cache-a" });
  const before = (await mesh.provider.stats()).requests;
  const again = await mesh.llm.complete({ ...request, messages: [{ content: "What is 2+2?", role: "user" }] }, { tenant: "cache-a" });
  assert.equal((await mesh.provider.stats()).requests, before, "a cache hit does not reach the provider");
  assert.deepEqual({ ...again, cached: false, costUsd: fresh.costUsd }, fresh);
  assert.equal(again.cached, true);
  assert.equal(again.costUsd, 0);

  const otherTenant = await mesh.llm.complete(request, { tenant: "cache-b" });
  assert.equal(otherTenant.cached, false);
  assert.equal((await mesh.provider.stats()).requests, before + 1);
  const sampled = await mesh.llm.complete({ ...request, temperature: 0.7 }, { tenant: "cache-a" });
  assert.equal(sampled.cached, false, "a non-deterministic request is never cached");

  const hitEvents = (await mesh.usageEvents("cache-a", 3)).filter((event) => event.cacheHit);
  assert.equal(hitEvents.length, 1);
  assert.deepEqual([hitEvents[0]!.costUsd, hitEvents[0]!.outcome], [0, "ok"]);
});

test("policy refusals get their typed errors before any capacity is leased", async () => {
  await mesh.createTenant("strict", { allowedModels: ["gpt-4o-mini", "unpriced-model"], allowedTools: ["lookup"], maxPromptTokens: 50 });
  const before = (await mesh.provider.stats()).requests;
  const tooLong = await failureOf(mesh.llm.complete(ask("word ".repeat(80)), { tenant: "strict", maxAttempts: 1 }));
  assert.equal(tooLong.code, "BAD_REQUEST");
  assert.match(tooLong.message, /^prompt has \d+ tokens, limit 50$/);
  const tool = await failureOf(mesh.llm.complete({ ...ask("hi"), tools: [{ name: "lookup" }, { name: "delete_all" }] }, { tenant: "strict" }));
  assert.deepEqual([tool.code, tool.message], ["FORBIDDEN", "tool delete_all is not allowed for this tenant"]);
  const model = await failureOf(mesh.llm.complete(ask("hi", { model: "gpt-4o" }), { tenant: "strict" }));
  assert.equal(model.code, "FORBIDDEN");
  const unpriced = await failureOf(mesh.llm.complete(ask("hi", { model: "unpriced-model" }), { tenant: "strict" }));
  assert.deepEqual([unpriced.code, unpriced.message], ["FORBIDDEN", "model unpriced-model has no price"]);
  assert.equal((await mesh.provider.stats()).requests, before, "no refusal reached the provider");

  const allowed = await mesh.llm.complete({ ...ask("please use tool lookup"), tools: [{ name: "lookup", parameters: { type: "object" } }] }, { tenant: "strict" });
  assert.deepEqual(allowed.toolCalls, [{ name: "lookup", arguments: "{}" }]);
  await mesh.untilNothingReserved("strict");
  const rejected = (await mesh.usageEvents("strict", 5)).filter((event) => event.outcome === "rejected");
  assert.deepEqual(rejected.map((event) => event.errorCode), ["BAD_REQUEST", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN"]);
});

test("a 200 KiB one-word prompt is refused by its count at once, and another tenant's call meanwhile is answered", async () => {
  await mesh.createTenant("wordy");
  await mesh.createTenant("bystander");
  const before = (await mesh.provider.stats()).requests;
  // Before the count was linear this word blocked the event loop for hours (quadratic merge).
  const [huge, other] = await Promise.all([
    failureOf(mesh.llm.complete(ask("a".repeat(200 * 1024)), { tenant: "wordy", maxAttempts: 1, timeoutMs: 10_000 })),
    mesh.llm.complete(ask("meanwhile, hello"), { tenant: "bystander", maxAttempts: 1, timeoutMs: 10_000 }),
  ]);
  assert.equal(huge.code, "BAD_REQUEST");
  assert.match(huge.message, /^prompt has \d+ tokens, limit 2000$/);
  assert.match(other.content ?? "", /^reply:/);
  assert.equal((await mesh.provider.stats()).requests, before + 1, "only the bystander reached the provider");
});

test("tool declarations count against the prompt limit: a 100 KB tools array is refused", async () => {
  await mesh.createTenant("toolish", { allowedTools: ["lookup"] });
  const schema = { type: "object", properties: Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`field_${i}`, { type: "string", description: `the value number ${i}` }])) };
  const tools = [{ name: "lookup", description: "Looks things up", parameters: schema }];
  assert.ok(JSON.stringify(tools).length > 20_000);
  const refused = await failureOf(mesh.llm.complete({ ...ask("hi"), tools: Array(5).fill(tools[0]) }, { tenant: "toolish", maxAttempts: 1 }));
  assert.equal(refused.code, "BAD_REQUEST");
  assert.match(refused.message, /^prompt has \d+ tokens, limit 2000$/);
});

test("bad input and unknown tenants get typed errors", async () => {
  await mesh.createTenant("careless");
  const call = (input: unknown, tenant = "careless") => failureOf(mesh.mesh.request({ subject: "llm.complete", input: {} as never, output: {} as never }, input as never, { tenant }));
  for (const input of [
    { model: "gpt-4o-mini" },
    { model: "gpt-4o-mini", messages: [] },
    { model: "gpt-4o-mini", messages: "hello" },
    { model: "gpt-4o-mini", messages: [{ role: "wizard", content: "hi" }] },
    { ...ask("hi"), maxTokens: "ten" },
    { ...ask("hi"), temperature: 3 },
    { ...ask("hi"), model: "bad model name" },
    { ...ask("hi"), extra: true },
  ]) {
    const error = await call(input);
    assert.equal(error.code, "BAD_REQUEST", JSON.stringify(input));
  }
  assert.equal((await call(ask("hi"), "nobody")).code, "NOT_FOUND");
  assert.equal((await storedUsageEvents(mesh.jsm, "careless")).length, 0, "invalid requests leave no usage behind");
});

after(() => mongo.close());
