import { test, after } from "node:test";
import assert from "node:assert/strict";
import { MongoClient } from "mongodb";
import { hasCode } from "../../runtime/index.ts";
import { createActorStore } from "../../runtime/store/index.ts";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { COLLECTION_SPECS } from "./ledgers.ts";
import { tenantVersionLog, type StoredVersion } from "./version-logs.ts";
import { VersionedState } from "./versioned-state.ts";

const servers = await useTestServers();
const client = new MongoClient(servers.mongoUrl);
after(() => client.close());
const store = createActorStore({ client, actor: "ai-capacity", prefix: servers.databasePrefix, collections: COLLECTION_SPECS });
await store.ensureIndexes();
const collection = store.globalCollection<StoredVersion & { tenant: string }>("capacity");
const log = tenantVersionLog<{ count: number }>(collection);

test("tenants' records never mix: every version is written and read under its tenant's _id", async () => {
  const state = new VersionedState(log, { initial: () => ({ count: 0 }) });
  await state.update("acme", "capacity", (draft) => { draft.count += 5; });
  await state.update("globex", "capacity", (draft) => { draft.count += 1; });
  assert.equal((await state.read("acme", "capacity")).count, 5);
  assert.equal((await state.read("globex", "capacity")).count, 1);
  assert.equal((await new VersionedState(log, { initial: () => ({ count: 0 }) }).read("initech", "capacity")).count, 0);
  const acme = await collection.findOne({ _id: "acme/capacity/1" });
  assert.equal(acme?.tenant, "acme");
  assert.deepEqual(JSON.parse(acme?.state ?? "null"), { count: 5 }, "the state is stored as one JSON string");
});

test("a scope that is not a tenant name, or an _id that is not the tenant's, is refused before the database is asked", async () => {
  for (const scope of ["", "acme/capacity", "Acme", "../x"]) {
    await assert.rejects(log.get(scope, "capacity", 1), (error) => hasCode(error, "INTERNAL"), scope);
    await assert.rejects(log.latest(scope, "capacity"), (error) => hasCode(error, "INTERNAL"), scope);
  }
  await assert.rejects(log.append("acme", { _id: "globex/capacity/9", key: "capacity", version: 9, state: { count: 1 }, at: Date.now() }),
    (error) => hasCode(error, "INTERNAL"));
  assert.equal(await collection.findOne({ _id: "globex/capacity/9" }), null);
});

test("a version stored with its state as a document (before states were strings) reads the same", async () => {
  const raw = client.db(store.databaseName).collection("capacity");
  await raw.insertOne({ _id: "hooli/capacity/1" as never, tenant: "hooli", key: "capacity", version: 1, at: Date.now(), state: { count: 7 } });
  const state = new VersionedState(log, { initial: () => ({ count: 0 }) });
  assert.equal((await state.read("hooli", "capacity")).count, 7);
  assert.equal(await state.update("hooli", "capacity", (draft) => ++draft.count), 8);
});
