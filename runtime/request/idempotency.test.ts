import { once } from "node:events";
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { actorClient, isMeshError, MeshClient } from "../index.ts";
import { fixtureActor, fixtureContract, fixtureEvents } from "../testing/fixture-actors.ts";
import { startInProcess } from "../testing/replicas.ts";

const servers = await useTestServers();
await startInProcess(fixtureActor, servers, { instanceId: "idem-a", maxInFlight: 32 });
await startInProcess(fixtureActor, servers, { instanceId: "idem-b", maxInFlight: 32 });
const nc = await servers.connectNats();
const mesh = new MeshClient(nc);
const fixture = actorClient(mesh, fixtureContract);
after(async () => {
  mesh.close();
  await nc.close();
});

test("a repeated idempotency key replays the stored reply without running the handler again", async () => {
  const first = await fixture.count({ amount: 5 }, { tenant: "idem-one", idempotencyKey: "order-1" });
  const again = await fixture.count({ amount: 5 }, { tenant: "idem-one", idempotencyKey: "order-1" });
  assert.deepEqual(again, first);
  assert.deepEqual(await fixture.executions({}, { tenant: "idem-one" }), { executions: 1 });
  const other = await fixture.count({ amount: 5 }, { tenant: "idem-one", idempotencyKey: "order-2" });
  assert.equal(other.total, 10);
});

test("20 concurrent duplicates across two replicas run the handler once and all see its result", async () => {
  const results = await Promise.allSettled(Array.from({ length: 20 }, () =>
    fixture.count({ amount: 7, delayMs: 300 }, { tenant: "idem-burst", idempotencyKey: "same-key", timeoutMs: 5000, maxAttempts: 1 })));
  assert.deepEqual(await fixture.executions({}, { tenant: "idem-burst" }), { executions: 1 });
  for (const result of results) {
    if (result.status === "fulfilled") assert.deepEqual(result.value, { total: 7 });
    else assert.ok(isMeshError(result.reason) && result.reason.code === "CONFLICT" && result.reason.retryAfterMs !== undefined);
  }
  assert.ok(results.filter((r) => r.status === "fulfilled").length >= 1);
});

test("a concurrent duplicate with a short deadline gets CONFLICT with retryAfterMs before its deadline, not silence", async () => {
  const started = once(fixtureEvents, "record");
  const first = fixture.record({ delayMs: 1500 }, { tenant: "idem-short", idempotencyKey: "slow-1", timeoutMs: 5000, maxAttempts: 1 });
  await started;
  const duplicate = await fixture.record({ delayMs: 1500 }, { tenant: "idem-short", idempotencyKey: "slow-1", timeoutMs: 600, maxAttempts: 1 }).catch((e: unknown) => e);
  assert.ok(isMeshError(duplicate), `expected an error, got ${JSON.stringify(duplicate)}`);
  assert.equal(duplicate.code, "CONFLICT", `${duplicate.code}: ${duplicate.message}`);
  assert.ok(duplicate.retryAfterMs !== undefined && duplicate.retryAfterMs > 0);
  assert.deepEqual(await first, { executions: 1 });
  assert.deepEqual(await fixture.executions({}, { tenant: "idem-short" }), { executions: 1 });
});

test("the same key is independent per tenant, and reusing it with another body is a CONFLICT", async () => {
  await fixture.count({ amount: 1 }, { tenant: "idem-x", idempotencyKey: "k" });
  await fixture.count({ amount: 1 }, { tenant: "idem-y", idempotencyKey: "k" });
  assert.deepEqual(await fixture.executions({}, { tenant: "idem-x" }), { executions: 1 });
  assert.deepEqual(await fixture.executions({}, { tenant: "idem-y" }), { executions: 1 });
  const error = await fixture.count({ amount: 2 }, { tenant: "idem-x", idempotencyKey: "k" }).catch((e: unknown) => e);
  assert.ok(isMeshError(error) && error.code === "CONFLICT");
  assert.deepEqual(await fixture.executions({}, { tenant: "idem-x" }), { executions: 1 });
});

test("a rejected request (bad input) with a key leaves no claim behind", async () => {
  const error = await fixture.count({ amount: "lots" } as never, { tenant: "idem-bad", idempotencyKey: "bad-1" }).catch((e: unknown) => e);
  assert.ok(isMeshError(error) && error.code === "BAD_REQUEST");
  assert.deepEqual(await fixture.count({ amount: 3 }, { tenant: "idem-bad", idempotencyKey: "bad-1" }), { total: 3 });
});
