import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { DEFAULT_PRICES } from "../ai-capacity/prices.ts";
import { ask, failureOf, startLlmMesh, storedUsageEvents, untilState } from "./test-support.ts";

const BREAKER_FAILURES = 3;
const servers = await useTestServers();
const mesh = await startLlmMesh(servers, {
  llm: {
    fallbacks: { "large-model": "small-model", "gpt-4o": "gpt-4o-mini" },
    breakerFailures: BREAKER_FAILURES,
    breakerHalfOpenMs: 60_000,
    timeoutMs: 1000,
  },
  // A model of its own for the short-deadline test, so no earlier test has moved its health.
  aiCapacity: { prices: { ...DEFAULT_PRICES, "patient-model": { inputPerMillion: 1, outputPerMillion: 2 } } },
  extraProviderModels: ["patient-model"],
});
await mesh.createTenant("acme");
const once = { tenant: "acme", maxAttempts: 1 };
const callsTo = async (model: string) => (await mesh.provider.stats()).byModel[model] ?? 0;

test("a provider answering 429 gets callers RATE_LIMITED at once, and capacity returns after it heals", async () => {
  await mesh.provider.reset();
  await mesh.provider.setBehaviour({ model: "gpt-4o-mini", rateLimited: { retryAfterSeconds: 1 } });
  const errors = [];
  for (let i = 0; i < 4; i++) errors.push(await failureOf(mesh.llm.complete(ask(`question ${i}`), once)));
  for (const error of errors) {
    assert.equal(error.code, "RATE_LIMITED");
    assert.ok(error.retryAfterMs !== undefined && error.retryAfterMs > 0 && error.retryAfterMs <= 1000);
  }
  assert.ok(await callsTo("gpt-4o-mini") <= 2, "ai-capacity holds callers back before they reach the provider");

  await mesh.provider.setBehaviour({ model: "gpt-4o-mini", rateLimited: null });
  await sleep(errors.at(-1)!.retryAfterMs!); // the hint the caller was given
  const healed = await mesh.llm.complete(ask("after the storm"), once);
  assert.equal(healed.model, "gpt-4o-mini");
  await mesh.untilNothingReserved("acme"); // every refused call's capacity was given back
});

test("repeated provider failures open the model's circuit and its fallback model answers", async () => {
  await mesh.provider.reset();
  await mesh.provider.setBehaviour({ model: "large-model", errorRate: 1 });
  for (let i = 0; i < BREAKER_FAILURES + 2; i++) {
    const result = await mesh.llm.complete(ask(`big question ${i}`, { model: "large-model" }), once);
    assert.deepEqual([result.model, result.fallback], ["small-model", true]);
    assert.ok(result.costUsd > 0);
  }
  assert.equal(await callsTo("large-model"), BREAKER_FAILURES, "an open circuit keeps calls away from the failing model");
  assert.equal(await callsTo("small-model"), BREAKER_FAILURES + 2);
  // Billed calls publish their usage event after the answer: wait for the fallbacks' to be stored.
  await untilState("the fallback calls' usage events", async () => (await storedUsageEvents(mesh.jsm, "acme")).filter((event) => event.fallback).length >= BREAKER_FAILURES + 2);
  const events = (await storedUsageEvents(mesh.jsm, "acme")).filter((event) => event.fallback);
  assert.equal(events.length, BREAKER_FAILURES + 2);
  assert.ok(events.every((event) => event.model === "small-model" && event.outcome === "ok"));
});

test("without a fallback a failing model answers UNAVAILABLE, then the open circuit answers at once with its retry time", async () => {
  await mesh.provider.reset();
  await mesh.provider.setBehaviour({ model: "small-model", errorRate: 1 });
  for (let i = 0; i < BREAKER_FAILURES; i++) {
    const error = await failureOf(mesh.llm.complete(ask(`small question ${i}`, { model: "small-model" }), once));
    assert.deepEqual([error.code, error.message], ["UNAVAILABLE", "the provider failed for small-model"]);
  }
  const open = await failureOf(mesh.llm.complete(ask("one more", { model: "small-model" }), once));
  assert.deepEqual([open.code, open.message], ["UNAVAILABLE", "small-model is unavailable (circuit open)"]);
  assert.ok(open.retryAfterMs! > 50_000 && open.retryAfterMs! <= 60_000);
  assert.equal(await callsTo("small-model"), BREAKER_FAILURES);
  const smallModelErrors = async () => (await storedUsageEvents(mesh.jsm, "acme")).filter((event) => event.model === "small-model" && event.outcome === "error");
  await untilState("the failed calls' usage events", async () => (await smallModelErrors()).length >= BREAKER_FAILURES + 1);
  assert.equal((await smallModelErrors()).length, BREAKER_FAILURES + 1);
});

test("an exhausted provider quota is UNAVAILABLE, never falls back and never opens the circuit", async () => {
  await mesh.provider.reset();
  await mesh.provider.setBehaviour({ model: "gpt-4o", insufficientQuota: true });
  for (let i = 0; i < BREAKER_FAILURES + 1; i++) {
    const error = await failureOf(mesh.llm.complete(ask(`quota ${i}`, { model: "gpt-4o" }), once));
    assert.deepEqual([error.code, error.message, error.retryAfterMs], ["UNAVAILABLE", "provider quota exhausted", 60_000]);
  }
  assert.equal(await callsTo("gpt-4o"), BREAKER_FAILURES + 1, "the circuit stayed closed");
  assert.equal(await callsTo("gpt-4o-mini"), 0, "no fallback for a quota problem");
  await mesh.untilNothingReserved("acme");
});

test("a hung provider call times out inside the deadline and the fallback model answers", async () => {
  await mesh.provider.reset();
  await mesh.provider.setBehaviour({ model: "gpt-4o", hang: true });
  const result = await mesh.llm.complete(ask("are you there?", { model: "gpt-4o" }), { ...once, timeoutMs: 5000 });
  assert.deepEqual([result.model, result.fallback], ["gpt-4o-mini", true]);
  await mesh.provider.setBehaviour({ model: "gpt-4o", hang: false });
});

test("callers with short deadlines on a slow model get TIMEOUT, and never open its circuit or shrink its capacity for others", async () => {
  await mesh.provider.reset();
  await mesh.provider.setBehaviour({ model: "patient-model", hang: true });
  // 600 ms leave a call ~350 ms, less than the configured 1,000 ms: a timeout there is the caller's.
  for (let i = 0; i < BREAKER_FAILURES + 2; i++) {
    const error = await failureOf(mesh.llm.complete(ask(`hurry ${i}`, { model: "patient-model" }), { ...once, timeoutMs: 600 }));
    assert.equal(error.code, "TIMEOUT");
  }
  assert.equal(await callsTo("patient-model"), BREAKER_FAILURES + 2, "every call reached the provider: the circuit stayed closed");
  assert.equal(await callsTo("gpt-4o-mini"), 0, "a caller's deadline is no reason to fall back");
  await mesh.provider.setBehaviour({ model: "patient-model", hang: false });
  const patient = await mesh.llm.complete(ask("take your time", { model: "patient-model" }), { ...once, timeoutMs: 5000 });
  assert.deepEqual([patient.model, patient.fallback], ["patient-model", false]);
  const health = await mesh.capacity.signal({ model: "patient-model", outcome: "ok", latencyMs: 1 }, { tenant: "acme" });
  assert.equal(health.capacityFactor, 1, "no timeout was reported to ai-capacity");
  await mesh.untilNothingReserved("acme"); // every timed-out call's capacity was given back
});

test("a model name nobody prices creates no circuit and is refused by ai-capacity before any provider call", async () => {
  await mesh.provider.reset();
  const error = await failureOf(mesh.llm.complete(ask("hello", { model: "made-up-model-7" }), once));
  assert.ok(["BAD_REQUEST", "FORBIDDEN"].includes(error.code), error.code);
  assert.equal(await callsTo("made-up-model-7"), 0);
});
