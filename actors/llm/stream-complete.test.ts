import assert from "node:assert/strict";
import { after, test } from "node:test";
import { headers } from "@nats-io/nats-core";
import { CompletionChunk, llmContract, STREAM_HEADERS } from "../../protocol/llm.ts";
import { MeshClient } from "../../runtime/index.ts";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { countTokens } from "./prompt-tokens.ts";
import { ask, failureOf, startLlmMesh, untilSettled } from "./test-support.ts";

const servers = await useTestServers();
const mesh = await startLlmMesh(servers);
const decodeChunk = (data: Uint8Array) => CompletionChunk.parse(JSON.parse(Buffer.from(data).toString("utf8")));

test("a streamed completion arrives chunk by chunk and ends with the usage it was charged, settled once", async () => {
  await mesh.createTenant("streamer");
  const whole = await mesh.llm.complete(ask("Stream this please", { maxTokens: 64 }), { tenant: "streamer" });
  const call = mesh.mesh.stream(llmContract.requests.complete, ask("Stream this please", { maxTokens: 64, stream: true }), { tenant: "streamer", window: 4, decodeChunk });
  const pieces: string[] = [];
  for await (const chunk of call) pieces.push(chunk.content);
  const result = await call.result;
  assert.equal(pieces.join(""), whole.content);
  assert.equal(pieces.length, whole.usage.completionTokens, "one chunk per token from the test provider, through a window of 4");
  assert.equal(result.content, whole.content);
  assert.deepEqual(result.usage, whole.usage, "usage from the provider's final chunk");
  // Calls are admitted from capacity shares, settled when the share goes back (idle 50 ms here).
  await mesh.untilNothingReserved("streamer");
  await untilSettled(mesh.jsm);
  const status = await mesh.capacity.status({}, { tenant: "streamer" });
  assert.ok(Math.abs(status.spentUsd - whole.costUsd - result.costUsd) < 1e-12, "each call charged exactly once");
  assert.equal(status.reservedUsd, 0);
  const events = await mesh.usageEvents("streamer", 2);
  assert.equal(events.length, 2);
  assert.deepEqual([events[1]!.outcome, events[1]!.completionTokens], ["ok", whole.usage.completionTokens]);
});

test("a caller that stops mid-stream aborts the provider call and is charged the tokens streamed so far", async () => {
  await mesh.createTenant("quitter");
  await mesh.provider.setBehaviour({ chunkDelayMs: 150 });
  after(() => mesh.provider.setBehaviour({ chunkDelayMs: 0 }));
  const full = await mesh.llm.complete(ask("A long one to stop", { maxTokens: 64 }), { tenant: "quitter" });
  const call = mesh.mesh.stream(llmContract.requests.complete, ask("A long one to stop", { maxTokens: 64, stream: true }), { tenant: "quitter", decodeChunk });
  let received = "";
  for await (const chunk of call) {
    received += chunk.content;
    if (received.length > 0 && countTokens(received) >= 2) break;
  }
  assert.equal((await failureOf(call.result)).code, "TIMEOUT");
  await mesh.provider.untilStreamsAbandoned(1);
  await mesh.untilNothingReserved("quitter");
  await untilSettled(mesh.jsm);
  const events = await mesh.usageEvents("quitter", 2);
  const stopped = events[1]!;
  assert.equal(stopped.outcome, "error");
  assert.ok(stopped.completionTokens >= 2 && stopped.completionTokens < full.usage.completionTokens,
    `charged ${stopped.completionTokens} of ${full.usage.completionTokens} tokens for a stream stopped after 2`);
  assert.equal(stopped.promptTokens, full.usage.promptTokens);
  const status = await mesh.capacity.status({}, { tenant: "quitter" });
  assert.ok(Math.abs(status.spentUsd - full.costUsd - stopped.costUsd) < 1e-12 && stopped.costUsd > 0, "the stopped stream is settled with what it streamed");
  assert.equal(status.reservedUsd, 0);
});

test("a tenant-scoped caller in its own account receives the whole stream (no flow control across accounts)", async () => {
  await mesh.createTenant("acme");
  const nc = await servers.connectNats("tenant-acme");
  after(() => nc.close());
  const client = new MeshClient(nc, { defaultTimeoutMs: 20_000 });
  const call = client.stream(llmContract.requests.complete, ask("From another account", { stream: true }), { tenant: "acme", window: 0, decodeChunk });
  let text = "";
  for await (const chunk of call) text += chunk.content;
  assert.equal((await call.result).content, text);
  assert.ok(text.startsWith("reply:"));
});

test("bad stream input gets typed errors: a malformed window, a disallowed model", async () => {
  await mesh.createTenant("strict", { allowedModels: ["gpt-4o-mini"] });
  const h = headers();
  h.set("Mw-Tenant", "strict");
  h.set(STREAM_HEADERS.window, "0");
  const reply = await mesh.nc.request(llmContract.requests.complete.subject, JSON.stringify(ask("x", { stream: true })), { headers: h, timeout: 5000 });
  assert.equal(reply.headers?.get("Mw-Error"), "BAD_REQUEST");
  const refused = mesh.mesh.stream(llmContract.requests.complete, ask("x", { stream: true, model: "gpt-4o" }), { tenant: "strict", decodeChunk });
  const consume = async () => {
    for await (const _chunk of refused) assert.fail("no chunk for a refused request");
  };
  assert.equal((await failureOf(consume())).code, "FORBIDDEN", "iteration ends with the typed error");
  assert.equal((await failureOf(refused.result)).code, "FORBIDDEN");
});
