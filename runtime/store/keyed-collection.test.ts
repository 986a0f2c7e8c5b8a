import { test, after } from "node:test";
import assert from "node:assert/strict";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { isMeshError } from "../errors.ts";
import type { ErrorCode } from "../../protocol/errors.ts";
import { tenantKey } from "../index.ts";
import { createActorStore, createMongoClient } from "./index.ts";

const servers = await useTestServers();
const client = createMongoClient(servers.mongoUrl);
after(() => client.close());

const store = createActorStore({
  client, actor: "keyed-desk", prefix: servers.databasePrefix,
  collections: { notes: { tenantOwned: true }, tickets: { tenantOwned: true, expires: true } },
});
await store.ensureIndexes();
type Note = { text: string; n?: number; tenant?: string; _id?: string };
const notes = store.collection<Note>("notes");
const tickets = store.collection<{ text: string; expiresAt: Date }>("tickets");
const raw = client.db(store.databaseName);

function meshCode(code: ErrorCode) {
  return (error: unknown) => {
    assert.ok(isMeshError(error), `expected a MeshError, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  };
}

test("tenantKey prefixes the key with the tenant and refuses malformed tenants and keys", () => {
  assert.equal(tenantKey("acme", "v/0001"), "acme/v/0001");
  const malformed: [string, string][] = [["", "k"], ["Acme", "k"], ["a/b", "k"], ["acme", ""], ["acme", "x".repeat(513)]];
  for (const [tenant, key] of malformed) {
    assert.throws(() => tenantKey(tenant, key), meshCode("INTERNAL"), `${tenant} / ${key.length}`);
  }
  assert.equal(tenantKey("acme", "x".repeat(512)).length, 517);
});

test("filter-based calls exist only under scan, where a reader sees they scan", () => {
  for (const name of ["find", "findOne", "countDocuments", "aggregate", "findOneAndUpdate", "updateOne", "deleteOne", "deleteMany", "findById"]) {
    assert.equal(name in notes, false, name);
  }
  assert.equal(typeof notes.scan.find, "function");
});

test("insert stores the record under <tenant>/<key> with its tenant; get reads it back", async () => {
  await notes.insert("acme", "first", { text: "hello" });
  assert.deepEqual(await raw.collection("notes").findOne({ _id: "acme/first" as never }), { _id: "acme/first", text: "hello", tenant: "acme" });
  assert.deepEqual(await notes.get("acme", "first"), { _id: "acme/first", text: "hello", tenant: "acme" });
  assert.equal(await notes.get("acme", "missing"), null);
});

test("a tenant whose id is a prefix of another's never sees, replaces or removes the other's records", async () => {
  await notes.insert("acme-eu", "shared", { text: "eu" });
  await notes.insert("acme", "shared", { text: "plain" });
  await notes.insert("acme-eu", "only-eu", { text: "eu only" });
  assert.equal((await notes.get("acme", "shared"))?.text, "plain");
  assert.equal((await notes.get("acme-eu", "shared"))?.text, "eu");
  assert.equal(await notes.get("acme", "only-eu"), null);
  assert.equal(await notes.get("acme", "-eu/only-eu"), null, "a key cannot reach into acme-eu's ids");
  assert.equal(await notes.remove("acme", "only-eu"), false);
  await notes.put("acme", "only-eu", { text: "acme's own" });
  assert.equal((await notes.get("acme-eu", "only-eu"))?.text, "eu only");
  assert.deepEqual((await notes.getMany("acme", ["shared", "only-eu"])).map((doc) => doc?.text), ["plain", "acme's own"]);
});

test("a record stored under one tenant's id space is not another tenant's, even through insertOne", async () => {
  await assert.rejects(notes.insertOne("acme", { _id: "acme-eu/forged", text: "x" }), meshCode("INTERNAL"));
  await notes.insertOne("acme", { _id: "acme/by-hand", text: "ok" });
  assert.equal((await notes.get("acme", "by-hand"))?.text, "ok");
  await raw.collection("notes").insertOne({ _id: "globex/planted" as never, text: "wrong tenant field", tenant: "acme" });
  assert.equal(await notes.get("globex", "planted"), null, "a record whose tenant field disagrees is not found");
});

test("insert is unique: CONFLICT when the key exists, and exactly one of concurrent inserts wins", async () => {
  await notes.insert("globex", "once", { text: "a" });
  await assert.rejects(notes.insert("globex", "once", { text: "b" }), meshCode("CONFLICT"));
  const results = await Promise.allSettled(Array.from({ length: 20 }, (_, n) => notes.insert("globex", "race", { text: `writer ${n}` })));
  assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
  assert.ok(results.every((r) => r.status === "fulfilled" || (isMeshError(r.reason) && r.reason.code === "CONFLICT")));
});

test("getMany reads in order, null where absent, and refuses more than 256 keys or a bad key", async () => {
  await notes.insert("initech", "a", { text: "A" });
  await notes.insert("initech", "c", { text: "C" });
  assert.deepEqual((await notes.getMany("initech", ["c", "b", "a"])).map((doc) => doc?.text ?? null), ["C", null, "A"]);
  assert.deepEqual(await notes.getMany("initech", []), []);
  assert.equal((await notes.getMany("initech", Array.from({ length: 256 }, (_, n) => `k${n}`))).length, 256);
  await assert.rejects(notes.getMany("initech", Array.from({ length: 257 }, (_, n) => `k${n}`)), meshCode("INTERNAL"));
  await assert.rejects(notes.getMany("initech", ["a", ""]), meshCode("INTERNAL"));
  await assert.rejects(notes.getMany("initech", "a" as never), meshCode("INTERNAL"));
});

test("insertMany: one batch, duplicates (stored before or repeated in the batch) reported, the rest stored", async () => {
  await notes.insert("hooli", "taken", { text: "old" });
  const result = await notes.insertMany("hooli", [
    { key: "one", doc: { text: "1" } },
    { key: "taken", doc: { text: "new" } },
    { key: "two", doc: { text: "2" } },
    { key: "one", doc: { text: "1 again" } },
  ]);
  assert.deepEqual(result, { inserted: ["one", "two"], duplicates: ["taken", "one"] });
  assert.deepEqual((await notes.getMany("hooli", ["one", "taken", "two"])).map((doc) => doc?.text), ["1", "old", "2"]);
  assert.deepEqual(await notes.insertMany("hooli", []), { inserted: [], duplicates: [] });
});

test("insertMany refuses more than 1000 entries or any bad entry before writing anything", async () => {
  const many = Array.from({ length: 1001 }, (_, n) => ({ key: `m${n}`, doc: { text: "x" } }));
  await assert.rejects(notes.insertMany("umbrella", many), meshCode("INTERNAL"));
  await assert.rejects(notes.insertMany("umbrella", [{ key: "fine", doc: { text: "x" } }, { key: "", doc: { text: "y" } }]), meshCode("INTERNAL"));
  await assert.rejects(notes.insertMany("umbrella", [{ key: "fine", doc: { text: "x", tenant: "acme" } }]), meshCode("INTERNAL"));
  await assert.rejects(notes.insertMany("", [{ key: "fine", doc: { text: "x" } }]), meshCode("INTERNAL"));
  assert.equal(await raw.collection("notes").countDocuments({ tenant: "umbrella" }), 0, "no partial state");
  const full = await notes.insertMany("umbrella", many.slice(0, 1000));
  assert.equal(full.inserted.length, 1000);
});

test("put replaces or inserts by _id (last writer wins); remove deletes once", async () => {
  await notes.put("stark", "cfg", { text: "v1", n: 1 });
  await notes.put("stark", "cfg", { text: "v2" });
  assert.deepEqual(await notes.get("stark", "cfg"), { _id: "stark/cfg", text: "v2", tenant: "stark" }, "replaced, not merged");
  assert.equal(await notes.remove("stark", "cfg"), true);
  assert.equal(await notes.remove("stark", "cfg"), false);
  assert.equal(await notes.get("stark", "cfg"), null);
});

test("bad input to the keyed calls is INTERNAL and touches nothing", async () => {
  const before = await raw.collection("notes").countDocuments({});
  await assert.rejects(notes.get("", "k"), meshCode("INTERNAL"));
  await assert.rejects(notes.get("acme", ""), meshCode("INTERNAL"));
  await assert.rejects(notes.insert("acme", "x".repeat(513), { text: "long" }), meshCode("INTERNAL"));
  await assert.rejects(notes.insert("acme", "k", { text: "x", tenant: "globex" }), meshCode("INTERNAL"), "a document naming another tenant");
  await assert.rejects(notes.insert("acme", "k", { _id: "acme/other", text: "x" }), meshCode("INTERNAL"), "a document with its own _id");
  await assert.rejects(notes.put("acme", "k", null as never), meshCode("INTERNAL"));
  await assert.rejects(notes.remove("Not-A-Tenant", "k"), meshCode("INTERNAL"));
  assert.equal(await raw.collection("notes").countDocuments({}), before);
});

test("expiring collections: keyed writes need expiresAt, and get hides an expired record", async () => {
  const future = new Date(Date.now() + 60_000);
  await tickets.insert("acme", "live", { text: "live", expiresAt: future });
  await tickets.put("acme", "gone", { text: "gone", expiresAt: new Date(Date.now() - 1000) });
  assert.equal((await tickets.get("acme", "live"))?.text, "live");
  assert.equal(await tickets.get("acme", "gone"), null);
  assert.deepEqual((await tickets.getMany("acme", ["gone", "live"])).map((doc) => doc?.text ?? null), [null, "live"]);
  await assert.rejects(tickets.insert("acme", "undated", { text: "x" } as never), meshCode("INTERNAL"));
  await assert.rejects(tickets.put("acme", "undated", { text: "x" } as never), meshCode("INTERNAL"));
  await assert.rejects(tickets.insert("acme", "gone", { text: "again", expiresAt: future }), meshCode("CONFLICT"), "unique until swept");
  await tickets.put("acme", "gone", { text: "renewed", expiresAt: future });
  assert.equal((await tickets.get("acme", "gone"))?.text, "renewed");
});
