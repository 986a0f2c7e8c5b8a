import { test, after } from "node:test";
import assert from "node:assert/strict";
import { Collection, Db, MongoClient } from "mongodb";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { isMeshError } from "../errors.ts";
import type { ErrorCode } from "../../protocol/errors.ts";
import { createActorStore, createMongoClient, databaseNameFor, isDuplicateKeyError } from "./index.ts";

const servers = await useTestServers();
const client = createMongoClient(servers.mongoUrl);
after(() => client.close());
const prefix = servers.databasePrefix;

const collections = {
  orders: { tenantOwned: true, indexes: [{ key: { tenant: 1, orderId: 1 }, unique: true, name: "tenant_order" }] },
  sessions: { tenantOwned: true, expires: true },
  models: { tenantOwned: false },
  cache: { tenantOwned: false, expires: true },
};
const store = createActorStore({ client, actor: "order-desk", prefix, collections });
await store.ensureIndexes();
const orders = store.collection<{ orderId: string; total?: number; tenant?: string }>("orders");

function meshCode(code: ErrorCode) {
  return (error: unknown) => {
    assert.ok(isMeshError(error), `expected a MeshError, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  };
}

test("databaseNameFor: prefix, dashes as underscores, and illegal names refused", () => {
  assert.equal(databaseNameFor("ai-capacity"), "ai_capacity");
  assert.equal(databaseNameFor("ai-capacity", "t1"), "t1_ai_capacity");
  for (const [actor, givenPrefix] of [["", undefined], ["a.b", undefined], ["a b", undefined], ["x".repeat(64), undefined], ["llm", ""], ["llm", "p$"]] as const) {
    assert.throws(() => databaseNameFor(actor, givenPrefix), meshCode("INTERNAL"), `${actor} / ${givenPrefix}`);
  }
});

test("a tenant sees only its own records, and every write is stamped with its tenant", async () => {
  await orders.insertOne("acme", { orderId: "o1", total: 10 });
  await orders.insertOne("globex", { orderId: "o1", total: 99 });
  await orders.insertOne("globex", { orderId: "o2", total: 5 });
  assert.deepEqual((await orders.scan.find("acme", {})).map(({ orderId, total, tenant }) => ({ orderId, total, tenant })), [{ orderId: "o1", total: 10, tenant: "acme" }]);
  assert.equal((await orders.scan.findOne("acme", { orderId: "o2" })), null);
  assert.equal(await orders.scan.countDocuments("globex", {}), 2);
  // An $or cannot widen the scope: the tenant is ANDed with it.
  assert.equal(await orders.scan.countDocuments("acme", { $or: [{ orderId: "o1" }, { orderId: "o2" }] }), 1);
  const grouped = await orders.scan.aggregate<{ _id: null; total: number }>("acme", [{ $group: { _id: null, total: { $sum: "$total" } } }]);
  assert.deepEqual(grouped, [{ _id: null, total: 10 }]);

  assert.equal(await orders.scan.deleteMany("acme", { orderId: "o2" }), 0, "acme cannot delete globex's o2");
  const updated = await orders.scan.findOneAndUpdate("acme", { orderId: "o1" }, { $inc: { total: 1 } });
  assert.equal(updated?.total, 11);
  assert.deepEqual(await orders.scan.updateOne("acme", { orderId: "o2" }, { $set: { total: 0 } }), { matched: 0, modified: 0, upserted: false });
  const upsert = await orders.scan.updateOne("initech", { orderId: "o9" }, { $set: { total: 1 } }, { upsert: true });
  assert.deepEqual(upsert, { matched: 0, modified: 0, upserted: true });
  assert.equal((await orders.scan.findOne("initech", { orderId: "o9" }))?.tenant, "initech");
  assert.equal((await orders.scan.findOne("globex", { orderId: "o2" }))?.total, 5, "globex's record untouched");
  assert.equal(await orders.scan.deleteOne("globex", { orderId: "o2" }), 1);
});

test("a call without a tenant, or naming another tenant, throws INTERNAL and touches nothing", async () => {
  await orders.insertOne("hooli", { orderId: "h1" });
  const before = await orders.scan.countDocuments("hooli", {});
  const untyped = orders as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const untypedScan = orders.scan as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const tenant of ["", undefined, null, 42]) {
    await assert.rejects(untypedScan.deleteMany!(tenant, {}), meshCode("INTERNAL"));
    await assert.rejects(untypedScan.find!(tenant, {}), meshCode("INTERNAL"));
    await assert.rejects(untyped.insertOne!(tenant, { orderId: "x" }), meshCode("INTERNAL"));
    await assert.rejects(untyped.get!(tenant, "o1"), meshCode("INTERNAL"));
  }
  await assert.rejects(orders.scan.deleteMany("acme", { tenant: "hooli" }), meshCode("INTERNAL"));
  await assert.rejects(orders.insertOne("acme", { orderId: "x", tenant: "hooli" }), meshCode("INTERNAL"));
  await assert.rejects(orders.scan.updateOne("acme", { orderId: "o1" }, { $set: { tenant: "hooli" } }), meshCode("INTERNAL"));
  await assert.rejects(orders.scan.aggregate("acme", [{ $lookup: { from: "orders", localField: "orderId", foreignField: "orderId", as: "all" } }]), meshCode("INTERNAL"));
  await assert.rejects(orders.scan.aggregate("acme", [{ $out: "stolen" }]), meshCode("INTERNAL"));
  await assert.rejects(untypedScan.find!("acme", null), meshCode("INTERNAL"));
  assert.equal(await orders.scan.countDocuments("hooli", {}), before);
});

test("undeclared collections and the wrong kind of view are programming errors", () => {
  assert.throws(() => store.collection("nope"), meshCode("INTERNAL"));
  assert.throws(() => store.collection("models"), meshCode("INTERNAL"));
  assert.throws(() => store.globalCollection("orders"), meshCode("INTERNAL"));
  assert.throws(() => store.globalCollection("_idempotency"), meshCode("INTERNAL"));
  assert.throws(() => createActorStore({ client, actor: "x", prefix, collections: { _reserved: { tenantOwned: false } } }), meshCode("INTERNAL"));
});

test("the store reaches only its own database and exposes no driver handle", async () => {
  assert.equal(store.databaseName, databaseNameFor("order-desk", prefix));
  for (const value of Object.values(store)) {
    assert.ok(!(value instanceof Db || value instanceof MongoClient || value instanceof Collection));
  }
  const other = createActorStore({ client, actor: "other-desk", prefix, collections });
  await other.collection("orders").insertOne("acme", { orderId: "elsewhere" });
  assert.equal(await other.collection("orders").scan.countDocuments("acme", {}), 1);
  assert.equal(await orders.scan.findOne("acme", { orderId: "elsewhere" }), null);
  // What the store wrote is where its name says, checked with a raw client.
  assert.equal(await client.db(databaseNameFor("other-desk", prefix)).collection("orders").countDocuments({ orderId: "elsewhere" }), 1);
});

test("declared indexes are ensured idempotently, and a unique violation is CONFLICT", async () => {
  await store.ensureIndexes();
  const names = (await client.db(store.databaseName).collection("orders").indexes()).map((index) => index.name);
  assert.ok(names.includes("tenant_order"), names.join());
  await orders.insertOne("umbrella", { orderId: "u1" });
  await assert.rejects(orders.insertOne("umbrella", { orderId: "u1" }), (error: unknown) => {
    assert.ok(isMeshError(error) && error.code === "CONFLICT");
    assert.ok(isDuplicateKeyError(error), "the cause is kept");
    return true;
  });
  await orders.insertOne("other", { orderId: "u1" }); // unique per tenant only
});

test("expiring collections: expired records are invisible to reads and removed by sweepExpired", async () => {
  const sessions = store.collection<{ sid: string; expiresAt: Date; tenant?: string }>("sessions");
  const cache = store.globalCollection<{ k: string; expiresAt: Date }>("cache");
  const past = new Date(Date.now() - 60_000);
  const future = new Date(Date.now() + 60_000);
  await sessions.insertOne("acme", { sid: "old", expiresAt: past });
  await sessions.insertOne("acme", { sid: "new", expiresAt: future });
  await cache.insertOne({ k: "old", expiresAt: past });
  await cache.insertOne({ k: "new", expiresAt: future });

  assert.equal(await sessions.scan.findOne("acme", { sid: "old" }), null);
  assert.deepEqual((await sessions.scan.find("acme", {})).map((s) => s.sid), ["new"]);
  assert.equal(await sessions.scan.countDocuments("acme", { expiresAt: { $lt: future } }), 0, "a caller's own expiresAt filter is combined");
  assert.deepEqual(await sessions.scan.aggregate("acme", [{ $count: "n" }]), [{ n: 1 }]);
  assert.deepEqual((await cache.find({})).map((c) => c.k), ["new"]);
  await assert.rejects(sessions.insertOne("acme", { sid: "undated" } as never), meshCode("INTERNAL"));
  await assert.rejects(sessions.scan.updateOne("acme", { sid: "x" }, { $set: { a: 1 } }, { upsert: true }), meshCode("INTERNAL"));

  assert.equal(await store.sweepExpired(), 2);
  const raw = client.db(store.databaseName);
  assert.equal(await raw.collection("sessions").countDocuments({}), 1);
  assert.equal(await raw.collection("cache").countDocuments({}), 1);
  assert.equal(await store.sweepExpired(), 0);
  const expiryIndex = (await raw.collection("sessions").indexes()).find((index) => index.key.expiresAt === 1);
  assert.ok(expiryIndex, "a TTL index, or a plain one where the server has no TTL");
});

test("the expiry sweeper runs periodically and reports to an event", async () => {
  let reportSwept: (deleted: number) => void = () => {};
  const swept = new Promise<number>((resolve) => { reportSwept = resolve; });
  const sweeping = createActorStore({ client, actor: "sweeper", prefix, collections, onSwept: (deleted) => { if (deleted > 0) reportSwept(deleted); } });
  await sweeping.globalCollection("cache").insertOne({ k: "gone", expiresAt: new Date(Date.now() - 1000) });
  assert.throws(() => sweeping.startExpirySweeper(0), meshCode("INTERNAL"));
  const stop = sweeping.startExpirySweeper(20);
  try {
    assert.equal(await swept, 1);
  } finally {
    stop();
  }
});

test("ready() pings through the breaker", async () => {
  await store.ready();
  assert.equal(store.breakerState(), "closed");
});
