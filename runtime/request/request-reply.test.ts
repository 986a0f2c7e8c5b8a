import { test, after } from "node:test";
import assert from "node:assert/strict";
import { headers } from "@nats-io/nats-core";
import pLimit from "p-limit";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { actorClient, MeshClient, isMeshError } from "../index.ts";
import { fixtureActor, fixtureContract } from "../testing/fixture-actors.ts";
import { startInProcess } from "../testing/replicas.ts";

const servers = await useTestServers();
const replicaA = await startInProcess(fixtureActor, servers, { instanceId: "replica-a" });
const replicaB = await startInProcess(fixtureActor, servers, { instanceId: "replica-b" });
const nc = await servers.connectNats();
const mesh = new MeshClient(nc, { service: "tests" });
const fixture = actorClient(mesh, fixtureContract);
after(async () => {
  mesh.close();
  await nc.close();
});

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "OK";
  } catch (error) {
    assert.ok(isMeshError(error), `expected a MeshError, got ${String(error)}`);
    return error.code;
  }
}

test("two replicas in the queue group share 1,000 requests", async () => {
  const callers = pLimit(8); // within the two replicas' admission bound (2 x 8)
  const replies = await Promise.all(Array.from({ length: 1000 }, (_, n) =>
    callers(() => fixture.echo({ text: `hello ${n}`, n }, { tenant: "acme", maxAttempts: 1 }))));
  assert.equal(replies.length, 1000);
  const served = (actor: typeof replicaA) => actor.metrics.requests.get().then((m) => m.values.reduce((sum, v) => sum + v.value, 0));
  const [a, b] = [await served(replicaA), await served(replicaB)];
  assert.ok(a > 0 && b > 0, `both replicas served some: ${a} and ${b}`);
  assert.equal(a + b >= 1000, true);
});

test("bad input gets BAD_REQUEST: wrong types, missing and unknown fields, invalid JSON, oversize", async () => {
  const send = (payload: string, h = headers()) => {
    if (!h.has("Mw-Tenant")) h.set("Mw-Tenant", "acme");
    return nc.request("fixture.echo", payload, { timeout: 2000, headers: h });
  };
  for (const payload of ['{"text": 42}', "{}", '{"text":"x","extra":1}', "{not json", "x".repeat(5000)]) {
    const reply = await send(payload);
    assert.equal(reply.headers?.get("Mw-Error"), "BAD_REQUEST", payload.slice(0, 20));
    assert.equal(JSON.parse(reply.string()).error.code, "BAD_REQUEST");
  }
});

test("malformed or missing headers get BAD_REQUEST, never a crash or a hang", async () => {
  const cases: Array<[string, string]> = [["Mw-Tenant", "NOT A TENANT"], ["Mw-Deadline", "yesterday"], ["Mw-Timeout-Ms", "-5"], ["traceparent", "garbage"], ["Mw-Idempotency-Key", "x".repeat(500)]];
  for (const [name, value] of cases) {
    const h = headers();
    if (name !== "Mw-Tenant") h.set("Mw-Tenant", "acme");
    h.set(name, value);
    const reply = await nc.request("fixture.echo", '{"text":"x"}', { timeout: 2000, headers: h });
    assert.equal(reply.headers?.get("Mw-Error"), "BAD_REQUEST", name);
  }
  const noTenant = await nc.request("fixture.echo", '{"text":"x"}', { timeout: 2000 });
  assert.equal(JSON.parse(noTenant.string()).error.code, "BAD_REQUEST");
  assert.equal(await codeOf(fixture.echo({ text: "still serving" }, { tenant: "acme" })), "OK");
});

test("a caller's tenant or key with CR or LF is its own BAD_REQUEST, refused before anything is sent", async () => {
  assert.equal(await codeOf(fixture.echo({ text: "x" }, { tenant: "acme\r\nMw-Tenant: globex" })), "BAD_REQUEST");
  assert.equal(await codeOf(fixture.echo({ text: "x" }, { tenant: "acme", idempotencyKey: "k\n1" })), "BAD_REQUEST");
});

test("a thrown plain error becomes INTERNAL without its detail; typed errors keep their code", async () => {
  const reply = await nc.request("fixture.fail", '{"code":"CRASH"}', { timeout: 2000, headers: (() => { const h = headers(); h.set("Mw-Tenant", "acme"); return h; })() });
  assert.equal(reply.headers?.get("Mw-Error"), "INTERNAL");
  assert.doesNotMatch(reply.string(), /secret/);
  assert.equal(await codeOf(fixture.fail({ code: "NOT_FOUND" }, { tenant: "acme" })), "NOT_FOUND");
});

test("an INTERNAL MeshError raised inside the actor reaches the caller as a bare 'internal error'", async () => {
  const tenant = headers();
  tenant.set("Mw-Tenant", "acme");
  const reply = await nc.request("fixture.fail", '{"code":"INTERNAL"}', { timeout: 2000, headers: tenant });
  assert.equal(reply.headers?.get("Mw-Error"), "INTERNAL");
  assert.equal(reply.headers?.get("Nats-Service-Error"), "internal error");
  assert.deepEqual(reply.json(), { error: { code: "INTERNAL", message: "internal error" } });
  const kept = await fixture.fail({ code: "CONFLICT" }, { tenant: "acme" }).catch((error: unknown) => error);
  assert.ok(isMeshError(kept) && kept.message === "asked to fail with CONFLICT", "messages of other codes are meant for callers and kept");
});

test("a burst beyond the in-flight bound gets OVERLOADED at once, not timeouts", async () => {
  // 2 replicas x (4 in flight + 4 queued) = 16 admitted; the rest must be refused immediately.
  const results = await Promise.all(Array.from({ length: 40 }, () =>
    codeOf(fixture.slow({ ms: 500 }, { tenant: "acme", timeoutMs: 3000, maxAttempts: 1 }))));
  const overloaded = results.filter((c) => c === "OVERLOADED").length;
  assert.ok(overloaded >= 20, `OVERLOADED answers: ${overloaded}`);
  assert.equal(results.filter((c) => c === "TIMEOUT").length, 0);
  assert.equal(results.filter((c) => c === "OK").length + overloaded, 40);
});

test("an expired deadline aborts the handler's signal and the caller gets TIMEOUT", async () => {
  assert.equal(await codeOf(fixture.slow({ ms: 5000 }, { tenant: "acme", timeoutMs: 200, maxAttempts: 1 })), "TIMEOUT");
  const direct = await fixture.slow({ ms: 10 }, { tenant: "acme" });
  assert.deepEqual(direct, { done: true, aborted: false });
});

test("a caller's abort signal cancels the call at once with TIMEOUT; a reply that still comes is dropped", async () => {
  const controller = new AbortController();
  const started = Date.now();
  const call = fixture.slow({ ms: 300 }, { tenant: "acme", timeoutMs: 5000, maxAttempts: 1, signal: controller.signal });
  setTimeout(() => controller.abort(), 50);
  const error = await call.catch((e: unknown) => e);
  assert.ok(isMeshError(error) && error.code === "TIMEOUT" && error.message === "cancelled", String(error));
  assert.ok(Date.now() - started < 300, "cancelled before the handler finished");
  assert.equal(await codeOf(fixture.echo({ text: "x" }, { tenant: "acme", signal: controller.signal })), "TIMEOUT", "an aborted signal sends nothing");
  await new Promise((resolve) => setTimeout(resolve, 400)); // the slow reply arrives and is dropped
  assert.equal((await fixture.echo({ text: "after" }, { tenant: "acme", signal: new AbortController().signal })).text, "after");
});

test("retryable codes are retried inside the deadline; terminal ones are not", async () => {
  const started = Date.now();
  assert.equal(await codeOf(fixture.fail({ code: "UNAVAILABLE" }, { tenant: "acme", maxAttempts: 3, timeoutMs: 2000 })), "UNAVAILABLE");
  assert.ok(Date.now() - started < 2000);
  const stats = (replicaA.metrics.requests.get()).then((m) => m.values.filter((v) => v.labels.subject === "fixture.fail" && v.labels.code === "UNAVAILABLE").reduce((s, v) => s + v.value, 0));
  const statsB = (replicaB.metrics.requests.get()).then((m) => m.values.filter((v) => v.labels.subject === "fixture.fail" && v.labels.code === "UNAVAILABLE").reduce((s, v) => s + v.value, 0));
  assert.equal((await stats) + (await statsB), 3, "three attempts reached the actor");
});

test("no responders is UNAVAILABLE, not a hang", async () => {
  const error = await mesh.requestBytes("nobody.home", new Uint8Array(), { tenant: "acme", maxAttempts: 1 }).catch((e: unknown) => e);
  assert.ok(isMeshError(error) && error.code === "UNAVAILABLE");
});

test("a reply that is not JSON (a foreign responder) is INTERNAL for the caller, not a crash", async () => {
  const foreign = nc.subscribe("foreign.echo", { callback: (_error, msg) => { msg.respond("<html>not json</html>"); } });
  const error = await mesh.requestBytes("foreign.echo", new Uint8Array(), { tenant: "acme", maxAttempts: 1 }).catch((e: unknown) => e);
  foreign.unsubscribe();
  assert.ok(isMeshError(error) && error.code === "INTERNAL", String(error));
});
