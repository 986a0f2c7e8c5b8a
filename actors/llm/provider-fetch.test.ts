import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIUserAbortError, NotFoundError, RateLimitError } from "openai";
import { rejectionOf, useProvider } from "../../sandbox/provider/testing.ts";
import { createProviderClient } from "./provider-call.ts";
import { createProviderFetch } from "./provider-fetch.ts";

const question = { model: "gpt-4o-mini", messages: [{ role: "user" as const, content: "What is the answer?" }], max_tokens: 32 };

test("through the SDK it answers as the built-in fetch does: completion, usage and the provider's headers", async (t) => {
  const { provider, client: builtIn } = await useProvider(t);
  const ours = createProviderClient(provider.baseURL, "test");
  const [expected, answered] = await Promise.all([builtIn.chat.completions.create(question), ours.chat.completions.create(question)]);
  assert.equal(answered.choices[0]?.message.content, expected.choices[0]?.message.content);
  assert.deepEqual(answered.usage, expected.usage);
  const { response } = await ours.chat.completions.create(question).withResponse();
  assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
});

test("streamed answers arrive chunk by chunk with the final usage", async (t) => {
  const { provider, client: builtIn } = await useProvider(t);
  const ours = createProviderClient(provider.baseURL, "test");
  const expected = await builtIn.chat.completions.create(question);
  let content = "";
  let usage: OpenAI.CompletionUsage | undefined | null;
  for await (const chunk of await ours.chat.completions.create({ ...question, stream: true, stream_options: { include_usage: true } })) {
    content += chunk.choices[0]?.delta.content ?? "";
    usage = chunk.usage ?? usage;
  }
  assert.equal(content, expected.choices[0]?.message.content);
  assert.deepEqual(usage, expected.usage);
});

test("provider errors, timeouts, aborts and unreachable providers surface as the SDK's typed errors", async (t) => {
  const { provider } = await useProvider(t);
  const ours = createProviderClient(provider.baseURL, "test");
  assert.ok(await rejectionOf(ours.chat.completions.create({ ...question, model: "no-such-model" })) instanceof NotFoundError);

  await provider.setBehaviour({ model: "gpt-4o-mini", rateLimited: { retryAfterSeconds: 2 } });
  const limited = await rejectionOf(ours.chat.completions.create(question));
  assert.ok(limited instanceof RateLimitError);
  assert.equal(limited.headers?.get("retry-after"), "2", "the provider's headers reach the error");

  await provider.setBehaviour({ model: "gpt-4o-mini", rateLimited: null, hang: true });
  assert.ok(await rejectionOf(ours.chat.completions.create(question, { timeout: 100 })) instanceof APIConnectionTimeoutError);
  const controller = new AbortController();
  const aborted = rejectionOf(ours.chat.completions.create(question, { signal: controller.signal }));
  controller.abort();
  assert.ok(await aborted instanceof APIUserAbortError);

  const closedPort = new URL(provider.baseURL);
  await provider.stop();
  assert.ok(await rejectionOf(createProviderClient(closedPort.href, "test").chat.completions.create(question)) instanceof APIConnectionError);
});

test("a body it does not send itself (a form) goes through the built-in fetch", async (t) => {
  const { provider } = await useProvider(t);
  const response = await createProviderFetch()(`${provider.baseURL}/chat/completions`, { method: "POST", body: new URLSearchParams({ a: "b" }) });
  assert.equal(response.status, 400, "the provider answered the form (it is not JSON)");
});

test("an answer slower than the idle-connection bound still arrives (the bound is for idle connections only)", async (t) => {
  const { provider } = await useProvider(t);
  await provider.setBehaviour({ latencyMs: 1_500 });
  const answered = await createProviderClient(provider.baseURL, "test").chat.completions.create(question);
  assert.match(answered.choices[0]?.message.content ?? "", /^reply:/);
});

test("a provider that stalls in the middle of its answer ends in the SDK's timeout error, not a connection error", async (t) => {
  const stalled = createServer((request, response) => {
    request.resume();
    response.writeHead(200, { "content-type": "application/json" });
    response.write('{"id":"chatcmpl-1","object":"chat.completion","choices":[');
  });
  await new Promise<void>((resolve) => stalled.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => { stalled.closeAllConnections(); stalled.close(() => resolve()); }));
  const { port } = stalled.address() as AddressInfo;
  const client = createProviderClient(`http://127.0.0.1:${port}/v1`, "test");
  assert.ok(await rejectionOf(client.chat.completions.create(question, { timeout: 200 })) instanceof APIConnectionTimeoutError);
});
