/** Deadlines and headers at the request boundary: every request gets an answer a caller can act on, at once. */
import assert from "node:assert/strict";
import { once } from "node:events";
import { after, test } from "node:test";
import { headers as natsHeaders, type MsgHdrs } from "@nats-io/nats-core";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { actorClient, MeshClient, isMeshError } from "../index.ts";
import { fixtureActor, fixtureContract, fixtureEvents } from "../testing/fixture-actors.ts";
import { startInProcess } from "../testing/replicas.ts";

const servers = await useTestServers();
const replica = await startInProcess(fixtureActor, servers, { instanceId: "deadlines" });
const nc = await servers.connectNats();
const mesh = new MeshClient(nc, { service: "tests" });
after(async () => {
  mesh.close();
  await nc.close();
});
const fixture = actorClient(mesh, fixtureContract);

function withHeaders(entries: Record<string, string>): MsgHdrs {
  const result = natsHeaders();
  for (const [name, value] of Object.entries(entries)) result.set(name, value);
  return result;
}

async function rawRequest(subject: string, body: string, entries: Record<string, string>) {
  const reply = await nc.request(subject, body, { timeout: 3000, headers: withHeaders(entries) });
  return { code: reply.headers?.get("Mw-Error") ?? "OK", body: reply.json<{ error?: { message: string } }>() };
}

test("header names are matched in any case", async () => {
  const reply = await rawRequest("fixture.echo", '{"text":"hi"}', { "mw-tenant": "acme", "MW-TIMEOUT-MS": "2000" });
  assert.equal(reply.code, "OK");
  const missing = await rawRequest("fixture.echo", '{"text":"hi"}', { "mw-tenant": "ACME!" });
  assert.equal(missing.code, "BAD_REQUEST", "a value is still checked");
});

test("a deadline that passed before the request arrived is answered TIMEOUT at once, not left to the caller's timer", async () => {
  const reply = await rawRequest("fixture.echo", '{"text":"late"}', { "Mw-Tenant": "acme", "Mw-Deadline": String(Date.now() - 1000) });
  assert.equal(reply.code, "TIMEOUT");
});

test("an Mw-Deadline in seconds instead of milliseconds is BAD_REQUEST", async () => {
  const reply = await rawRequest("fixture.echo", '{"text":"unit"}', { "Mw-Tenant": "acme", "Mw-Deadline": String(Math.floor(Date.now() / 1000) + 5) });
  assert.equal(reply.code, "BAD_REQUEST");
  assert.match(reply.body.error?.message ?? "", /epoch milliseconds/);
});

test("a request whose deadline passes while it waits behind the in-flight bound is never run", async () => {
  // The fixture allows 4 in flight: 4 slow calls take every slot.
  const busy = Array.from({ length: 4 }, () => fixture.slow({ ms: 1500 }, { tenant: "queue", timeoutMs: 5000 }));
  const queued = await fixture.count({ amount: 1 }, { tenant: "queue", timeoutMs: 300, maxAttempts: 1 }).catch((error: unknown) => error);
  assert.ok(isMeshError(queued) && queued.code === "TIMEOUT");
  await Promise.all(busy);
  assert.deepEqual(await fixture.executions({}, { tenant: "queue" }), { executions: 0 }, "the queued request's handler did not run");
});

test("stop() waits a bounded time for a handler that ignores its signal, then aborts the signal and goes on", async () => {
  const stubbornReplica = await startInProcess({ ...fixtureActor, limits: { ...fixtureActor.limits, drainTimeoutMs: 200 } }, servers, { instanceId: "stubborn" });
  await replica.stop(); // only the stubborn replica serves from here on
  const started = once(fixtureEvents, "stubborn") as Promise<[AbortSignal]>;
  const call = fixture.stubborn({ ms: 3000 }, { tenant: "acme", timeoutMs: 10_000 });
  const [signal] = await started;
  let stopped = false;
  await stubbornReplica.stop().then(() => { stopped = true; });
  assert.ok(stopped && signal.aborted, "stop() returned with the handler still sleeping, its signal aborted");
  assert.equal((signal.reason as { code?: string }).code, "UNAVAILABLE");
  await call.catch(() => undefined);
});
