import { test } from "node:test";
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import OpenAI from "openai";
import { isMeshError } from "../../runtime/errors.ts";
import { providerAdmin } from "./admin-client.ts";
import { ask, rejectionOf, useProvider } from "./testing.ts";

test("rateLimited answers 429 rate_limit_exceeded with the retry and rate-limit headers", async (t) => {
  const { client, provider } = await useProvider(t);
  await provider.setBehaviour({ rateLimited: { retryAfterSeconds: 1.5, limitRequests: 30 } });
  const error = await rejectionOf(client.chat.completions.create(ask("hi")));
  assert.ok(error instanceof OpenAI.RateLimitError);
  assert.equal(error.status, 429);
  assert.equal(error.type, "requests");
  assert.equal(error.code, "rate_limit_exceeded");
  assert.equal(error.headers?.get("retry-after"), "2");
  assert.equal(error.headers?.get("retry-after-ms"), "1500");
  assert.equal(error.headers?.get("x-ratelimit-limit-requests"), "30");
  assert.equal(error.headers?.get("x-ratelimit-remaining-requests"), "0");
  assert.equal(error.headers?.get("x-ratelimit-reset-requests"), "1.5s");

  await provider.setBehaviour({ rateLimited: null });
  assert.equal((await client.chat.completions.create(ask("hi"))).choices[0]!.finish_reason, "stop");
});

test("insufficientQuota answers 429 with type and code insufficient_quota", async (t) => {
  const { client, provider } = await useProvider(t);
  await provider.setBehaviour({ insufficientQuota: true });
  const error = await rejectionOf(client.chat.completions.create(ask("hi")));
  assert.ok(error instanceof OpenAI.RateLimitError);
  assert.equal(error.code, "insufficient_quota");
  assert.equal(error.type, "insufficient_quota");
  assert.equal(error.headers?.get("retry-after"), null);
});

test("errorRate fails that fraction of requests with 500 server_error, evenly spread", async (t) => {
  const { client, provider } = await useProvider(t);
  await provider.setBehaviour({ errorRate: 1 });
  for (let i = 0; i < 3; i += 1) {
    const error = await rejectionOf(client.chat.completions.create(ask(`hi ${i}`)));
    assert.ok(error instanceof OpenAI.InternalServerError);
    assert.equal(error.status, 500);
    assert.equal(error.type, "server_error");
  }
  await provider.reset();
  await provider.setBehaviour({ errorRate: 0.5 });
  const outcomes = [];
  for (let i = 0; i < 4; i += 1) {
    outcomes.push(await client.chat.completions.create(ask("hi")).then(() => "ok", (error: unknown) => (error instanceof OpenAI.APIError ? error.status : String(error))));
  }
  assert.deepEqual(outcomes, ["ok", 500, "ok", 500]);
});

test("latencyMs delays every answer, so a shorter client timeout expires", async (t) => {
  const { client, provider } = await useProvider(t);
  await provider.setBehaviour({ latencyMs: 150 });
  const timedOut = await rejectionOf(client.chat.completions.create(ask("hi"), { timeout: 30 }));
  assert.ok(timedOut instanceof OpenAI.APIConnectionTimeoutError);
  const started = performance.now();
  await client.chat.completions.create(ask("hi"));
  assert.ok(performance.now() - started >= 150);
});

test("hang holds requests until the behaviour changes, and stop releases them", async (t) => {
  const { client, provider } = await useProvider(t);
  await provider.setBehaviour({ hang: true });
  const timedOut = await rejectionOf(client.chat.completions.create(ask("hi"), { timeout: 50 }));
  assert.ok(timedOut instanceof OpenAI.APIConnectionTimeoutError);
  await provider.untilHanging(0);

  const held = client.chat.completions.create(ask("released"));
  await provider.untilHanging(1);
  await provider.setBehaviour({ latencyMs: 0 });
  assert.equal((await provider.stats()).hanging, 1, "a change that keeps hang on keeps holding");
  await provider.setBehaviour({ hang: false });
  assert.equal((await held).choices[0]!.finish_reason, "stop");

  await provider.setBehaviour({ hang: true });
  const dropped = client.chat.completions.create(ask("dropped"));
  await provider.untilHanging(1);
  await provider.stop();
  assert.ok((await rejectionOf(dropped)) instanceof OpenAI.APIConnectionError);
});

test("behaviour scoped to one model leaves the others healthy and overrides the global one", async (t) => {
  const { client, provider } = await useProvider(t);
  await provider.setBehaviour({ model: "large-model", rateLimited: { retryAfterSeconds: 5 } });
  assert.ok((await rejectionOf(client.chat.completions.create(ask("hi", "large-model")))) instanceof OpenAI.RateLimitError);
  assert.equal((await client.chat.completions.create(ask("hi", "small-model"))).model, "small-model");

  await provider.setBehaviour({ errorRate: 1 });
  await provider.setBehaviour({ model: "small-model", errorRate: 0 });
  assert.equal((await client.chat.completions.create(ask("hi", "small-model"))).model, "small-model");
  assert.ok((await rejectionOf(client.chat.completions.create(ask("hi", "gpt-4o")))) instanceof OpenAI.InternalServerError);
  const { global, byModel } = await provider.behaviour();
  assert.equal(global.errorRate, 1);
  assert.deepEqual(byModel, { "large-model": { rateLimited: { retryAfterSeconds: 5 } }, "small-model": { errorRate: 0 } });
});

test("bad admin input gets 400 and changes nothing", async (t) => {
  const { provider } = await useProvider(t);
  const before = await provider.behaviour();
  const bad: unknown[] = [
    { latencyMs: 5, errorRate: 2 },
    { latencyMs: -1 },
    { hang: "yes" },
    { rateLimited: { retryAfterSeconds: "soon" } },
    { rateLimited: {} },
    { colour: "red" },
    { model: "gpt-4o", models: ["a"] },
    { models: [""] },
    [],
  ];
  for (const patch of bad) {
    const error = await rejectionOf(provider.setBehaviour(patch as never));
    assert.ok(isMeshError(error) && error.code === "BAD_REQUEST", `${JSON.stringify(patch)}: ${String(error)}`);
  }
  const invalidJson = await fetch(`${provider.url}/admin/behaviour`, { method: "POST", body: "{" });
  assert.equal(invalidJson.status, 400);
  assert.equal(((await invalidJson.json()) as { error: { type: string } }).error.type, "invalid_request_error");
  assert.deepEqual(await provider.behaviour(), before);
});

test("stats count requests by model and replies by status; reset clears them", async (t) => {
  const { client, provider } = await useProvider(t);
  await client.chat.completions.create(ask("a"));
  await client.chat.completions.create(ask("b", "gpt-4o"));
  await rejectionOf(client.chat.completions.create(ask("c", "nope")));
  await rejectionOf(client.chat.completions.create({ model: "gpt-4o", messages: [] }));
  await provider.setBehaviour({ model: "gpt-4o", insufficientQuota: true });
  await rejectionOf(client.chat.completions.create(ask("d", "gpt-4o")));
  await client.models.list();

  assert.deepEqual(await provider.stats(), {
    requests: 5,
    byModel: { "gpt-4o-mini": 1, "gpt-4o": 3, nope: 1 },
    byStatus: { "200": 2, "404": 1, "400": 1, "429": 1 },
    hanging: 0,
    streams: { completed: 0, abandoned: 0 },
  });
  await provider.reset();
  assert.deepEqual(await provider.stats(), { requests: 0, byModel: {}, byStatus: {}, hanging: 0, streams: { completed: 0, abandoned: 0 } });
  assert.equal((await provider.behaviour()).byModel["gpt-4o"], undefined);
});

test("the admin client reports an unreachable provider as UNAVAILABLE", async (t) => {
  const { provider } = await useProvider(t);
  const admin = providerAdmin(provider.baseURL);
  assert.equal((await admin.stats()).requests, 0);
  await provider.stop();
  const error = await rejectionOf(admin.stats());
  assert.ok(isMeshError(error) && error.code === "UNAVAILABLE", String(error));
});
