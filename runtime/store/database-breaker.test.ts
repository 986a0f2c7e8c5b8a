import { test, after } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as delay } from "node:timers/promises";
import { usePrivateMongo } from "../../sandbox/testing/test-servers.ts";
import { isMeshError, type MeshError } from "../errors.ts";
import { createActorStore, createMongoClient, type BreakerState } from "./index.ts";

const mongo = await usePrivateMongo();
const client = createMongoClient(mongo.url);
after(() => client.close());

const halfOpenAfterMs = 300;
const states: BreakerState[] = [];
let openedAt = 0;
const store = createActorStore({
  client,
  actor: "breaker-probe",
  prefix: "breaker",
  collections: { items: { tenantOwned: true, indexes: [{ key: { tenant: 1, itemId: 1 }, unique: true }] } },
  breaker: { consecutiveFailures: 2, halfOpenAfterMs },
  onBreakerStateChange: (state) => {
    states.push(state);
    if (state === "open") openedAt = Date.now();
  },
});
await store.ensureIndexes();
const items = store.collection<{ itemId: string }>("items");

async function failure(call: Promise<unknown>): Promise<MeshError> {
  const error = await call.then(() => undefined, (thrown: unknown) => thrown);
  assert.ok(isMeshError(error), `expected a MeshError, got ${String(error)}`);
  return error;
}

test("bad options are refused", () => {
  assert.throws(() => createActorStore({ client, actor: "x", collections: {}, breaker: { consecutiveFailures: 0 } }), (e: unknown) => isMeshError(e) && e.code === "INTERNAL");
  assert.throws(() => createActorStore({ client, actor: "x", collections: {}, breaker: { halfOpenAfterMs: -1 } }), (e: unknown) => isMeshError(e) && e.code === "INTERNAL");
});

test("duplicate keys and bad queries do not count as database failures", async () => {
  await items.insertOne("a", { itemId: "i1" });
  for (let attempt = 0; attempt < 3; attempt++) {
    assert.equal((await failure(items.insertOne("a", { itemId: "i1" }))).code, "CONFLICT");
    assert.equal((await failure(items.scan.find("a", { $bogus: 1 } as never))).code, "INTERNAL");
  }
  assert.equal(store.breakerState(), "closed");
  assert.deepEqual(states, []);
});

test("a stopped database opens the circuit; calls then fail fast; it closes by itself once the database is back", async () => {
  await mongo.stop();
  for (let attempt = 0; attempt < 2; attempt++) {
    const error = await failure(items.scan.find("a", {}));
    assert.equal(error.code, "UNAVAILABLE");
    assert.equal(error.message, "database unavailable", "no driver detail in the message");
  }
  assert.equal(store.breakerState(), "open");

  // While open, calls are refused without a database round trip, with a hint when to retry.
  const refused = await failure(items.insertOne("a", { itemId: "i2" }));
  assert.equal(refused.code, "UNAVAILABLE");
  assert.ok(refused.retryAfterMs !== undefined && refused.retryAfterMs > 0 && refused.retryAfterMs <= halfOpenAfterMs, String(refused.retryAfterMs));
  assert.equal((await failure(store.ready())).code, "UNAVAILABLE");
  assert.equal(store.breakerState(), "open");

  await mongo.restart();
  // The circuit lets a trial call through only once halfOpenAfter has passed; no event marks that moment.
  await delay(Math.max(0, openedAt + halfOpenAfterMs - Date.now()));
  assert.deepEqual((await items.scan.find("a", {})).map((item) => item.itemId), ["i1"]);
  assert.equal(store.breakerState(), "closed");
  assert.deepEqual(states, ["open", "half-open", "closed"]);
  await store.ready();
});
