/**
 * The database operations the runtime relies on, against the real fallback database
 * (FerretDB on SQLite, or whatever MONGO_URL / mongod provides). Findings: docs/compatibility.md.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { MongoClient, MongoServerError, type Db, type IndexDescription } from "mongodb";
import { useTestServers } from "../testing/test-servers.ts";

const servers = await useTestServers();
const client = new MongoClient(servers.mongoUrl);
const db: Db = client.db(`${servers.databasePrefix}_compat`);
after(() => client.close());

test("insert and find by filter", async () => {
  const items = db.collection("items");
  await items.insertMany([{ tenant: "a", n: 1 }, { tenant: "b", n: 2 }]);
  const found = await items.find({ tenant: "a" }, { projection: { _id: 0 } }).toArray();
  assert.deepEqual(found, [{ tenant: "a", n: 1 }]);
});

test("a unique index rejects a duplicate with code 11000", async () => {
  const keys = db.collection("keys");
  await keys.createIndex({ tenant: 1, key: 1 }, { unique: true });
  await keys.insertOne({ tenant: "a", key: "k" });
  await assert.rejects(keys.insertOne({ tenant: "a", key: "k" }), (error: unknown) => {
    assert.ok(error instanceof MongoServerError);
    assert.equal(error.code, 11000);
    return true;
  });
  await keys.insertOne({ tenant: "b", key: "k" });
  assert.equal(await keys.countDocuments({ key: "k" }), 2);
});

test("indexes ensured one call per index can be ensured again (a restart or a second replica)", async () => {
  const multi = db.collection("multi_index");
  const indexes: IndexDescription[] = [{ key: { tenant: 1, a: 1 }, unique: true }, { key: { tenant: 1, b: 1 } }];
  for (const round of [1, 2]) {
    for (const index of indexes) await multi.createIndexes([index]);
    assert.ok((await multi.indexes()).length >= 3, `round ${round}`);
  }
});

test("findOneAndUpdate with upsert, $inc, $set and $setOnInsert", async () => {
  const counters = db.collection<{ _id: string; count: number; created: string; last: string }>("counters");
  const first = await counters.findOneAndUpdate(
    { _id: "c1" },
    { $inc: { count: 1 }, $set: { last: "one" }, $setOnInsert: { created: "first" } },
    { upsert: true, returnDocument: "after" },
  );
  assert.deepEqual(first, { _id: "c1", count: 1, last: "one", created: "first" });
  const second = await counters.findOneAndUpdate(
    { _id: "c1" },
    { $inc: { count: 2 }, $set: { last: "two" }, $setOnInsert: { created: "second" } },
    { upsert: true, returnDocument: "after" },
  );
  assert.deepEqual(second, { _id: "c1", count: 3, last: "two", created: "first" });
});

test("a conditional update applies only when the filter still matches (optimistic version)", async () => {
  const buckets = db.collection<{ _id: string; version: number; tokens: number }>("buckets");
  await buckets.insertOne({ _id: "b", version: 1, tokens: 100 });
  const won = await buckets.updateOne({ _id: "b", version: 1 }, { $set: { tokens: 60, version: 2 } });
  const lost = await buckets.updateOne({ _id: "b", version: 1 }, { $set: { tokens: 10, version: 2 } });
  assert.equal(won.modifiedCount, 1);
  assert.equal(lost.matchedCount, 0);
  assert.equal((await buckets.findOne({ _id: "b" }))?.tokens, 60);
});

test("of concurrent inserts with one unique key exactly one wins (the primitive behind every race-safe write)", async () => {
  const versions = db.collection<{ _id: string; writer: number }>("versions");
  const results = await Promise.allSettled(Array.from({ length: 20 }, (_, writer) => versions.insertOne({ _id: "tenant-a/2", writer })));
  assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
  for (const result of results) {
    if (result.status === "rejected") assert.equal((result.reason as MongoServerError).code, 11000);
  }
});

test("$min, $max, $unset, $push and $pull", async () => {
  const docs = db.collection<{ _id: string; low?: number; high?: number; tags?: string[]; gone?: number }>("ops");
  await docs.insertOne({ _id: "d", low: 5, high: 5, tags: ["a"], gone: 1 });
  await docs.updateOne({ _id: "d" }, { $min: { low: 2 }, $max: { high: 9 }, $unset: { gone: "" }, $push: { tags: "b" } });
  await docs.updateOne({ _id: "d" }, { $pull: { tags: "a" } });
  assert.deepEqual(await docs.findOne({ _id: "d" }), { _id: "d", low: 2, high: 9, tags: ["b"] });
});

test("TTL indexes: accepted by MongoDB, refused by FerretDB 1.x with code 238 (so the store tolerates it)", async () => {
  const records = db.collection("expiring");
  // FerretDB 1.24 answers NotImplemented (238); the runtime store ignores exactly that
  // code and deletes expired documents itself, filtering reads on `expiresAt` meanwhile.
  await records.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 }).catch((error: unknown) => {
    assert.ok(error instanceof MongoServerError);
    assert.equal(error.code, 238);
  });
  const past = new Date(Date.now() - 60_000);
  await records.insertMany([{ expiresAt: past }, { expiresAt: new Date(Date.now() + 60_000) }]);
  const removed = await records.deleteMany({ expiresAt: { $lte: new Date() } });
  assert.equal(removed.deletedCount, 1);
  assert.equal(await records.countDocuments({}), 1);
});

test("aggregation: $match, $group on a compound key with $sum of a field and $count, $sort, $limit, $count, $unwind", async () => {
  const usage = db.collection("usage");
  await usage.insertMany([
    { tenant: "a", model: "m1", tokens: 10, tags: ["x", "y"] },
    { tenant: "a", model: "m2", tokens: 5, tags: ["x"] },
    { tenant: "a", model: "m1", tokens: 7, tags: [] },
    { tenant: "b", model: "m1", tokens: 100, tags: ["y"] },
  ]);
  // FerretDB 1.24 computes only the first accumulator of a $group (the others come back 0)
  // and copies "$field" literally in a computed $project. So we use one accumulator per
  // $group, keep counters pre-aggregated with $inc, and reshape results in code.
  const byModel = await usage.aggregate([
    { $match: { tenant: "a" } },
    { $group: { _id: { tenant: "$tenant", model: "$model" }, tokens: { $sum: "$tokens" } } },
    { $sort: { tokens: -1 } },
    { $project: { tokens: 1 } },
    { $limit: 5 },
  ]).toArray();
  assert.deepEqual(byModel, [
    { _id: { tenant: "a", model: "m1" }, tokens: 17 },
    { _id: { tenant: "a", model: "m2" }, tokens: 5 },
  ]);
  const calls = await usage.aggregate([{ $match: { tenant: "a" } }, { $group: { _id: "$model", calls: { $sum: 1 } } }, { $sort: { _id: 1 } }]).toArray();
  assert.deepEqual(calls, [{ _id: "m1", calls: 2 }, { _id: "m2", calls: 1 }]);
  const [counted] = await usage.aggregate([{ $match: { tenant: "a" } }, { $unwind: "$tags" }, { $count: "n" }]).toArray();
  assert.equal(counted?.n, 3);
});
