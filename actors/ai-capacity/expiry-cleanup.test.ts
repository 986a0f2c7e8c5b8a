import { test, after } from "node:test";
import assert from "node:assert/strict";
import { MongoClient } from "mongodb";
import { pino } from "pino";
import { createActorStore } from "../../runtime/store/index.ts";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { ExpiryCleanup } from "./expiry-cleanup.ts";
import type { LeaseExpiryDoc } from "./lease-expiry.ts";
import { COLLECTION_SPECS } from "./ledgers.ts";

const servers = await useTestServers();
const client = new MongoClient(servers.mongoUrl);
after(() => client.close());
const store = createActorStore({ client, actor: "ai-capacity", prefix: servers.databasePrefix, collections: COLLECTION_SPECS });
const entries = store.globalCollection<LeaseExpiryDoc>("lease_expiry");
const log = pino({ enabled: false });

test("finished leases' expiry entries are removed together; open ones stay", async () => {
  for (const id of ["done-1", "done-2", "open-1"]) await entries.insertOne({ _id: id, tenant: "acme", leaseExpiresAt: Date.now() + 30_000 });
  const cleanup = new ExpiryCleanup(entries);
  cleanup.forget("done-1", log);
  cleanup.forget("done-2", log);
  await cleanup.flush();
  assert.deepEqual((await entries.find({})).map((entry) => entry._id), ["open-1"]);
});

test("removing entries that do not exist (already swept, or never written) is no error", async () => {
  const cleanup = new ExpiryCleanup(entries);
  cleanup.forget("never-written", log);
  await cleanup.flush();
  assert.equal(await entries.countDocuments({ _id: "open-1" }), 1);
});
