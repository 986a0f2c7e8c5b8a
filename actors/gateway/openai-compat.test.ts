import assert from "node:assert/strict";
import { test } from "node:test";
import OpenAI from "openai";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { untilSettled } from "../llm/test-support.ts";
import { countTokens } from "../llm/prompt-tokens.ts";
import { startGatewayMesh } from "./test-support.ts";

const servers = await useTestServers();
const mesh = await startGatewayMesh(servers);
const sdk = (apiKey: string) => new OpenAI({ baseURL: mesh.baseURL, apiKey, maxRetries: 0 });
const ask = (content: string, model = "gpt-4o-mini") => ({ model, messages: [{ role: "user" as const, content }], max_tokens: 48 });

async function rejection(promise: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OpenAI.APIError) return error;
    throw error;
  }
  throw new Error("expected the call to fail");
}

test("the openai SDK completes through the gateway with the tenant's key, and the cost is the tenant's", async () => {
  const key = await mesh.tenantWithKey("acme");
  const completion = await sdk(key).chat.completions.create(ask("Hello through the edge"));
  assert.equal(completion.object, "chat.completion");
  assert.match(completion.choices[0]!.message.content ?? "", /^reply:/);
  assert.ok(completion.usage!.prompt_tokens > 0 && completion.usage!.completion_tokens > 0);
  // Calls are admitted from capacity shares, settled when the share goes back (idle 50 ms here).
  await mesh.untilNothingReserved("acme");
  await untilSettled(mesh.jsm);
  const status = await mesh.capacity.status({}, { tenant: "acme" });
  assert.ok(status.spentUsd > 0, "the tenant of the key paid");
});

test("streaming through the gateway: OpenAI chunks, the same text, ending with usage", async () => {
  const key = await mesh.tenantWithKey("streamy");
  const whole = await sdk(key).chat.completions.create(ask("Stream it to me"));
  const stream = await sdk(key).chat.completions.create({ ...ask("Stream it to me"), stream: true, stream_options: { include_usage: true } });
  let text = "";
  let usage: OpenAI.CompletionUsage | undefined | null;
  let finish: string | null = null;
  for await (const chunk of stream) {
    assert.equal(chunk.object, "chat.completion.chunk");
    text += chunk.choices[0]?.delta.content ?? "";
    finish = chunk.choices[0]?.finish_reason ?? finish;
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(text, whole.choices[0]!.message.content);
  assert.equal(finish, "stop");
  assert.deepEqual(usage, whole.usage);
});

test("budget exhausted -> 402 with the mesh's code; model not allowed -> 403; past the edge rate -> 429 with Retry-After", async () => {
  const broke = await mesh.tenantWithKey("broke", { budget: { amountUsd: 0, period: "day" } });
  const overBudget = await rejection(sdk(broke).chat.completions.create(ask("Spend money I do not have")));
  assert.equal(overBudget.status, 402);
  assert.equal(overBudget.code, "OVER_BUDGET");

  const picky = await mesh.tenantWithKey("picky", { allowedModels: ["gpt-4o-mini"] });
  const forbidden = await rejection(sdk(picky).chat.completions.create(ask("Use the big one", "gpt-4o")));
  assert.ok(forbidden instanceof OpenAI.PermissionDeniedError);
  assert.equal(forbidden.code, "FORBIDDEN");

  const globex = await mesh.tenantWithKey("globex", { limits: { requestsPerMinute: 2, tokensPerMinute: 1_000_000 } });
  await sdk(globex).chat.completions.create(ask("one"));
  await sdk(globex).models.list();
  const limited = await rejection(sdk(globex).chat.completions.create(ask("three")));
  assert.ok(limited instanceof OpenAI.RateLimitError);
  const retryAfter = Number(limited.headers?.get("retry-after"));
  assert.ok(retryAfter >= 1 && retryAfter <= 30, `Retry-After ${retryAfter}`);
});

test("no key, a bad key and a revoked key are 401; a suspended tenant's key is 403", async () => {
  const key = await mesh.tenantWithKey("revoker");
  const noKey = await fetch(`${mesh.baseURL}/models`);
  assert.equal(noKey.status, 401);
  assert.equal(((await noKey.json()) as { error: { type: string } }).error.type, "authentication_error");
  assert.ok((await rejection(sdk("mw_notakey0_nope").models.list())) instanceof OpenAI.AuthenticationError);
  assert.ok((await rejection(sdk(`mw_AAAAAAAA_${"A".repeat(43)}`).models.list())) instanceof OpenAI.AuthenticationError);
  await sdk(key).models.list();
  await mesh.keys.revokeKey({ prefix: key.slice(0, 11) }, { tenant: "revoker" });
  assert.ok((await rejection(sdk(key).models.list())) instanceof OpenAI.AuthenticationError, "revoked (key cache off in this test)");

  const suspended = await mesh.tenantWithKey("dormant", { suspended: true });
  assert.ok((await rejection(sdk(suspended).models.list())) instanceof OpenAI.PermissionDeniedError);
});

test("a 2 MB body is 413 before it reaches the mesh", async () => {
  const key = await mesh.tenantWithKey("bulky");
  const error = await rejection(sdk(key).chat.completions.create(ask("x".repeat(2 * 1024 * 1024))));
  assert.equal(error.status, 413);
});

test("a client that stops reading a stream mid-way releases the call and is charged for what was streamed", async () => {
  const key = await mesh.tenantWithKey("dropout");
  const full = await sdk(key).chat.completions.create(ask("A stream to walk away from"));
  await mesh.provider.setBehaviour({ chunkDelayMs: 150 });
  try {
    const controller = new AbortController();
    const stream = await sdk(key).chat.completions.create({ ...ask("A stream to walk away from"), stream: true }, { signal: controller.signal });
    let received = "";
    for await (const chunk of stream) {
      received += chunk.choices[0]?.delta.content ?? "";
      if (received && countTokens(received) >= 2) break;
    }
    controller.abort();
    await mesh.provider.untilStreamsAbandoned(1);
  } finally {
    await mesh.provider.setBehaviour({ chunkDelayMs: 0 });
  }
  await mesh.untilNothingReserved("dropout");
  await untilSettled(mesh.jsm);
  const events = await mesh.usageEvents("dropout", 2);
  const stopped = events.find((event) => event.outcome === "error")!;
  assert.ok(stopped, "the stopped stream has its usage event");
  assert.ok(stopped.completionTokens >= 2 && stopped.completionTokens < full.usage!.completion_tokens, `charged ${stopped.completionTokens} of ${full.usage!.completion_tokens}`);
  const status = await mesh.capacity.status({}, { tenant: "dropout" });
  assert.equal(status.reservedUsd, 0, "the call's reservation is released");
  assert.ok(stopped.costUsd > 0 && Math.abs(status.spentUsd - stopped.costUsd - events[0]!.costUsd) < 1e-12);
});

test("GET /v1/models lists the tenant's allowed priced models with an ETag; If-None-Match gets 304", async () => {
  const key = await mesh.tenantWithKey("lister", { allowedModels: ["gpt-4o", "unpriced-model"] });
  const models = await sdk(key).models.list();
  assert.deepEqual(models.data.map((model) => model.id), ["gpt-4o"], "allowed and priced");
  const first = await fetch(`${mesh.baseURL}/models`, { headers: { authorization: `Bearer ${key}` } });
  const etag = first.headers.get("etag")!;
  assert.ok(etag && first.headers.get("cache-control")?.startsWith("private"));
  const again = await fetch(`${mesh.baseURL}/models`, { headers: { authorization: `Bearer ${key}`, "if-none-match": etag } });
  assert.equal(again.status, 304);
  const policy = await fetch(`${mesh.baseURL}/tenants/get`, { headers: { authorization: `Bearer ${key}` } });
  const policyAgain = await fetch(`${mesh.baseURL}/tenants/get`, { headers: { authorization: `Bearer ${key}`, "if-none-match": policy.headers.get("etag")! } });
  assert.equal(policyAgain.status, 304);
});
