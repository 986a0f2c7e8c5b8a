import { test, after } from "node:test";
import assert from "node:assert/strict";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { isMeshError } from "../errors.ts";
import type { ErrorCode } from "../../protocol/errors.ts";
import { createActorStore, createMongoClient, IDEMPOTENCY_COLLECTION, type BeginResult, type ClaimParams } from "./index.ts";

const servers = await useTestServers();
const client = createMongoClient(servers.mongoUrl);
after(() => client.close());
const store = createActorStore({ client, actor: "ledger", prefix: servers.databasePrefix, collections: {} });
await store.ensureIndexes();
const idempotency = store.idempotency;
const claims = client.db(store.databaseName).collection(IDEMPOTENCY_COLLECTION);

let keys = 0;
function claim(overrides: Partial<ClaimParams> = {}): ClaimParams {
  return { tenant: "acme", scope: "ledger.post", key: `k${++keys}`, requestHash: "h1", lockMs: 30_000, ttlMs: 60_000, ...overrides };
}
function token(result: BeginResult): string {
  assert.equal(result.state, "execute");
  return result.token;
}
function meshCode(code: ErrorCode) {
  return (error: unknown) => {
    assert.ok(isMeshError(error), `expected a MeshError, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  };
}

test("the first begin executes; after complete a repeat replays the stored reply", async () => {
  const params = claim();
  const owner = token(await idempotency.begin(params));
  // Keys FerretDB cannot store as field names still round-trip.
  const data = { posted: 3, "a.b": 1, $odd: [1, { "x.y": null }] };
  assert.equal(await idempotency.complete({ ...params, token: owner, reply: { ok: true, data } }), true);
  assert.deepEqual(await idempotency.begin(params), { state: "replay", reply: { ok: true, data } });

  const failed = claim();
  const failedOwner = token(await idempotency.begin(failed));
  const error = { code: "NOT_FOUND" as const, message: "no such account" };
  await idempotency.complete({ ...failed, token: failedOwner, reply: { ok: false, error } });
  assert.deepEqual(await idempotency.begin(failed), { state: "replay", reply: { ok: false, error } });
});

test("keys are scoped by tenant and scope", async () => {
  const params = claim();
  token(await idempotency.begin(params));
  token(await idempotency.begin({ ...params, tenant: "globex" }));
  token(await idempotency.begin({ ...params, tenant: "" }));
  token(await idempotency.begin({ ...params, scope: "ledger.void" }));
});

test("20 concurrent begins with one key: exactly one executes, the others are told to wait", async () => {
  const params = claim();
  const results = await Promise.all(Array.from({ length: 20 }, () => idempotency.begin(params)));
  assert.equal(results.filter((r) => r.state === "execute").length, 1);
  for (const result of results.filter((r) => r.state !== "execute")) {
    assert.equal(result.state, "in-progress");
    assert.ok(result.state === "in-progress" && result.retryAfterMs > 0 && result.retryAfterMs <= params.lockMs);
  }
});

test("the same key with a different request is a CONFLICT, while running and once done", async () => {
  const params = claim();
  const owner = token(await idempotency.begin(params));
  await assert.rejects(idempotency.begin({ ...params, requestHash: "h2" }), (error: unknown) => {
    assert.ok(isMeshError(error) && error.code === "CONFLICT");
    assert.equal(error.message, "idempotency key reused with a different request");
    return true;
  });
  await idempotency.complete({ ...params, token: owner, reply: { ok: true, data: 1 } });
  await assert.rejects(idempotency.begin({ ...params, requestHash: "h2" }), meshCode("CONFLICT"));
});

test("abandon releases the claim for a retry; only the owner can abandon or complete", async () => {
  const params = claim();
  const owner = token(await idempotency.begin(params));
  assert.equal(await idempotency.abandon({ ...params, token: "someone-else" }), false);
  assert.equal(await idempotency.complete({ ...params, token: "someone-else", reply: { ok: true, data: 0 } }), false);
  assert.equal((await idempotency.begin(params)).state, "in-progress");
  assert.equal(await idempotency.abandon({ ...params, token: owner }), true);
  const retry = token(await idempotency.begin(params));
  assert.notEqual(retry, owner);
  assert.equal(await idempotency.complete({ ...params, token: owner, reply: { ok: true, data: "late" } }), false);
});

test("a claim whose lock ran out (owner crashed) is taken over by exactly one caller", async () => {
  const params = claim();
  const crashed = token(await idempotency.begin(params));
  await claims.updateOne({ key: params.key }, { $set: { lockedUntil: new Date(Date.now() - 1) } });
  const results = await Promise.all(Array.from({ length: 10 }, () => idempotency.begin(params)));
  const winners = results.filter((r) => r.state === "execute");
  assert.equal(winners.length, 1);
  const heir = token(winners[0]!);
  assert.equal(await idempotency.complete({ ...params, token: crashed, reply: { ok: true, data: "stale" } }), false);
  assert.equal(await idempotency.complete({ ...params, token: heir, reply: { ok: true, data: "fresh" } }), true);
  assert.deepEqual(await idempotency.begin(params), { state: "replay", reply: { ok: true, data: "fresh" } });
});

test("an owner completing while others take over its ran-out lock: exactly one of them wins", async () => {
  for (let round = 0; round < 5; round++) {
    const params = claim();
    const owner = token(await idempotency.begin(params));
    await claims.updateOne({ key: params.key }, { $set: { lockedUntil: new Date(Date.now() - 1) } });
    const [completed, ...begins] = await Promise.all([
      idempotency.complete({ ...params, token: owner, reply: { ok: true, data: "owner" } }),
      ...Array.from({ length: 5 }, () => idempotency.begin(params)),
    ]);
    const takeovers = begins.filter((r) => r.state === "execute").length;
    assert.equal(Number(completed) + takeovers, 1, `round ${round}: completed ${String(completed)}, takeovers ${takeovers}`);
    const stored = await claims.findOne({ key: params.key });
    assert.equal(stored?.state, completed ? "done" : "pending");
  }
});

test("a stored reply expires after ttlMs: then the key executes anew and the sweep removes old records", async () => {
  const params = claim();
  const first = token(await idempotency.begin(params));
  await idempotency.complete({ ...params, token: first, reply: { ok: true, data: 1 } });
  const stored = await claims.findOne({ key: params.key });
  assert.ok(stored && stored.expiresAt.getTime() > Date.now() + params.ttlMs - 10_000);
  await claims.updateOne({ key: params.key }, { $set: { expiresAt: new Date(Date.now() - 1) } });
  token(await idempotency.begin({ ...params, requestHash: "another" }));

  const swept = claim();
  await idempotency.begin(swept);
  await claims.updateOne({ key: swept.key }, { $set: { expiresAt: new Date(Date.now() - 1) } });
  assert.ok((await store.sweepExpired()) >= 1);
  assert.equal(await claims.countDocuments({ key: swept.key }), 0);
});

test("awaitResult returns the reply once stored, and null on abort or release", async () => {
  const params = claim();
  const owner = token(await idempotency.begin(params));
  const waiting = idempotency.awaitResult({ ...params, signal: new AbortController().signal, pollMs: 10 });
  await idempotency.complete({ ...params, token: owner, reply: { ok: true, data: { done: true } } });
  assert.deepEqual(await waiting, { ok: true, data: { done: true } });

  const pending = claim();
  const pendingOwner = token(await idempotency.begin(pending));
  const controller = new AbortController();
  const aborted = idempotency.awaitResult({ ...pending, signal: controller.signal, pollMs: 10 });
  controller.abort();
  assert.equal(await aborted, null);
  const released = idempotency.awaitResult({ ...pending, signal: new AbortController().signal, pollMs: 10 });
  await idempotency.abandon({ ...pending, token: pendingOwner });
  assert.equal(await released, null);
  await assert.rejects(idempotency.awaitResult({ ...params, requestHash: "other", signal: new AbortController().signal }), meshCode("CONFLICT"));
});

test("bad inputs: a bad key is BAD_REQUEST, bad runtime parameters are INTERNAL, and nothing is stored", async () => {
  for (const key of ["", "x".repeat(257), "a\nb", undefined, 7]) {
    await assert.rejects(idempotency.begin(claim({ key: key as string })), meshCode("BAD_REQUEST"), String(key));
  }
  await assert.rejects(idempotency.begin(claim({ lockMs: 0 })), meshCode("INTERNAL"));
  await assert.rejects(idempotency.begin(claim({ ttlMs: Number.NaN })), meshCode("INTERNAL"));
  await assert.rejects(idempotency.begin(claim({ requestHash: "" })), meshCode("INTERNAL"));
  await assert.rejects(idempotency.begin(claim({ scope: "" })), meshCode("INTERNAL"));
  await assert.rejects(idempotency.begin(claim({ tenant: undefined as unknown as string })), meshCode("INTERNAL"));
  const before = await claims.countDocuments({});
  const params = claim();
  const owner = token(await idempotency.begin(params));
  await assert.rejects(idempotency.complete({ ...params, token: owner, reply: { ok: false, error: { code: "NOPE" } } as never }), meshCode("INTERNAL"));
  await assert.rejects(idempotency.complete({ ...params, token: "", reply: { ok: true, data: 1 } }), meshCode("INTERNAL"));
  await assert.rejects(idempotency.awaitResult({ ...params, signal: new AbortController().signal, pollMs: 0 }), meshCode("INTERNAL"));
  assert.equal(await claims.countDocuments({}), before + 1);
  assert.equal((await claims.findOne({ key: params.key }))?.state, "pending", "a refused reply leaves the claim pending");
});
