import { test, after } from "node:test";
import assert from "node:assert/strict";
import { MongoClient, type Collection } from "mongodb";
import { hasCode } from "../../runtime/index.ts";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { VersionedState, type VersionDoc, type VersionLog } from "./versioned-state.ts";

const servers = await useTestServers();
// Three clients stand for three replicas: each has its own connection pool and commit queue.
const clients = [0, 1, 2].map(() => new MongoClient(servers.mongoUrl));
after(() => Promise.all(clients.map((client) => client.close())));

interface Counter {
  count: number;
}

function logOn(collection: Collection<VersionDoc<Counter>>): VersionLog<Counter> {
  return {
    versionId: (scope, key, version) => `${scope}/${key}/${version}`,
    latest: async (_scope, key) => (await collection.find({ key, state: { $exists: true } }).sort({ version: -1 }).limit(1).toArray())[0] ?? null,
    get: (scope, key, version) => collection.findOne({ _id: `${scope}/${key}/${version}` }),
    append: async (_scope, doc) => {
      try {
        await collection.insertOne(doc);
        return true;
      } catch (error) {
        if ((error as { code?: number }).code === 11000) return false;
        throw error;
      }
    },
    retire: async (_scope, key, version) => {
      await collection.updateOne({ key, version }, { $unset: { state: "" } });
    },
    forget: async (_scope, key, before) => {
      await collection.deleteMany({ key, state: { $exists: false }, at: { $lt: before } });
    },
  };
}

function replicas(collectionName: string) {
  return clients.map((client) => new VersionedState(logOn(client.db(`${servers.databasePrefix}_versioned`).collection(collectionName)), {
    initial: () => ({ count: 0 }),
  }));
}

const increment = (draft: Counter) => ++draft.count;

test("150 concurrent changes from 3 replicas: each applied exactly once, none lost", async () => {
  const states = replicas("counters");
  const results = await Promise.all(Array.from({ length: 150 }, (_, index) => states[index % 3]!.update("t", "hits", increment)));
  assert.deepEqual([...results].sort((a, b) => a - b), Array.from({ length: 150 }, (_, index) => index + 1));
  assert.equal((await states[0]!.read("t", "hits")).count, 150);
});

test("old versions are retired: their state goes, their ids stay taken", async () => {
  const keeping = new VersionedState(logOn(clients[0]!.db(`${servers.databasePrefix}_versioned`).collection("retired")), {
    initial: () => ({ count: 0 }), keepVersions: 2,
  });
  for (let step = 0; step < 10; step++) await keeping.update("t", "sequence", increment);
  await keeping.idle();
  const versions = clients[0]!.db(`${servers.databasePrefix}_versioned`).collection("retired");
  const whole = (await versions.find({ key: "sequence", state: { $exists: true } }).toArray()).map((doc) => doc.version).sort((a, b) => a - b);
  assert.deepEqual(whole, [9, 10], "the two newest are kept whole");
  assert.equal(await versions.countDocuments({ key: "sequence" }), 10);
  assert.equal((await keeping.read("t", "sequence")).count, 10);
});

test("an operation that throws changes nothing, and neither does one that leaves the state as it was", async () => {
  const [state] = replicas("refusals");
  await state!.update("t", "limited", increment);
  const refusal = (draft: Counter) => {
    draft.count = 1000; // thrown away with the draft
    throw new Error("refused");
  };
  const outcomes = await Promise.allSettled([state!.update("t", "limited", refusal), state!.update("t", "limited", increment), state!.update("t", "limited", () => "looked")]);
  assert.deepEqual(outcomes.map((outcome) => outcome.status), ["rejected", "fulfilled", "fulfilled"]);
  assert.equal((await state!.read("t", "limited")).count, 2);
  const collection = clients[0]!.db(`${servers.databasePrefix}_versioned`).collection("refusals");
  assert.equal(await collection.countDocuments({ key: "limited" }), 2, "one version per batch that changed something");
});

test("a record nobody can win gives up with OVERLOADED instead of spinning", async () => {
  const blocked: VersionLog<Counter> = { ...logOn(clients[0]!.db(`${servers.databasePrefix}_versioned`).collection("blocked")), append: async () => false };
  const state = new VersionedState(blocked, { initial: () => ({ count: 0 }), maxAttempts: 3 });
  await assert.rejects(state.update("t", "stuck", increment), (error) => hasCode(error, "OVERLOADED"));
});

test("a replica that wrote last still sees what another replica wrote since: a refusal is never based on a version that is no longer the newest", async () => {
  const [first, second] = replicas("overtaken");
  await first!.update("t", "seen", increment);
  await second!.update("t", "seen", increment);
  // `first` remembers version 1 (count 1); the newest is version 2 (count 2).
  const needsTwo = (draft: Counter) => {
    if (draft.count < 2) throw new Error("count below 2");
    return draft.count;
  };
  assert.equal(await first!.update("t", "seen", needsTwo), 2);
  assert.equal(await first!.update("t", "seen", increment), 3);
  assert.equal((await second!.read("t", "seen")).count, 3);
});

test("a replica far behind (more versions than it reads forward) finds the newest version", async () => {
  const [behind, busy] = replicas("far-behind");
  await behind!.update("t", "many", increment);
  for (let step = 0; step < 40; step++) await busy!.update("t", "many", increment);
  assert.equal(await behind!.update("t", "many", increment), 42);
});
