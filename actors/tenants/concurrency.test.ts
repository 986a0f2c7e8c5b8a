import { test, after } from "node:test";
import assert from "node:assert/strict";
import { tenantsContract, type TenantPolicyFields } from "../../protocol/tenants.ts";
import { actorClient, hasCode, isMeshError, MeshClient } from "../../runtime/index.ts";
import { createMongoClient, databaseNameFor } from "../../runtime/store/index.ts";
import { startInProcess } from "../../runtime/testing/replicas.ts";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { tenantsActor } from "./actor.ts";
import { POLICIES, versionKey } from "./policy-records.ts";

const servers = await useTestServers();
await startInProcess(tenantsActor, servers);
const nc = await servers.connectNats();
const mesh = new MeshClient(nc);
const tenants = actorClient(mesh, tenantsContract);
const mongo = createMongoClient(servers.mongoUrl);
const records = mongo.db(databaseNameFor("tenants", servers.databasePrefix)).collection<{ _id: string; latest?: number; policy?: unknown; tenant?: string }>(POLICIES);
after(async () => {
  mesh.close();
  await nc.close();
  await mongo.close();
});

const policy: TenantPolicyFields = {
  displayName: "Acme",
  limits: { requestsPerMinute: 60, tokensPerMinute: 100_000 },
  budget: { amountUsd: 10, period: "month" },
  allowedModels: [],
  allowedTools: [],
  maxPromptTokens: 4000,
  retention: { storePrompts: false, retentionDays: 7 },
};

async function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(() => "OK", (error: unknown) => (isMeshError(error) ? error.code : String(error)));
}

const putTimes = async (tenant: string, times: number) => {
  for (let n = 0; n < times; n++) {
    const { version } = await tenants.get({}, { tenant });
    await tenants.put({ policy: { ...policy, displayName: `put ${version + 1}` }, expectedVersion: version }, { tenant });
  }
};
/** Rewinds the head as a stalled writer would: its copy is of the version it names. */
async function setHead(tenant: string, latest: number, policyOfVersion: Record<string, unknown>) {
  await records.replaceOne({ _id: `${tenant}/head` }, { latest, policy: { ...policyOfVersion, version: latest }, tenant });
}

test("20 concurrent puts of one version: exactly one wins, and get returns the winner", async () => {
  await tenants.put({ policy, expectedVersion: 0 }, { tenant: "crowd" });
  const results = await Promise.all(Array.from({ length: 20 }, (_, n) =>
    tenants.put({ policy: { ...policy, displayName: `writer ${n}` }, expectedVersion: 1 }, { tenant: "crowd" })
      .then((won) => won.displayName, (error: unknown) => (isMeshError(error) ? error.code : String(error)))));
  const winners = results.filter((result) => result !== "CONFLICT");
  assert.equal(winners.length, 1, results.join(","));
  const current = await tenants.get({}, { tenant: "crowd" });
  assert.deepEqual([current.version, current.displayName], [2, winners[0]]);
});

test("concurrent writers and readers: every version has one writer, gets never go backwards, history stays at 10", async () => {
  const tenant = "busy";
  await tenants.put({ policy, expectedVersion: 0 }, { tenant });
  const WRITERS = 4;
  const WINS_EACH = 5;
  let writing = true;
  const writer = async (id: number) => {
    let wins = 0;
    while (wins < WINS_EACH) {
      const { version } = await tenants.get({}, { tenant });
      try {
        await tenants.put({ policy: { ...policy, displayName: `writer ${id}` }, expectedVersion: version }, { tenant });
        wins++;
      } catch (error) {
        if (!hasCode(error, "CONFLICT")) throw error;
      }
    }
  };
  const reader = async () => {
    const seen: number[] = [];
    while (writing) seen.push((await tenants.get({}, { tenant })).version);
    return seen;
  };
  const readers = Array.from({ length: 3 }, reader);
  await Promise.all(Array.from({ length: WRITERS }, (_, id) => writer(id)));
  writing = false;
  for (const seen of await Promise.all(readers)) {
    assert.ok(seen.length > 0);
    seen.forEach((version, index) => assert.ok(index === 0 || version >= seen[index - 1]!, `went back: ${seen.join(",")}`));
  }
  const last = 1 + WRITERS * WINS_EACH;
  assert.equal((await tenants.get({}, { tenant })).version, last);
  const kept = (await records.find({ _id: { $regex: `^${tenant}/v/` } }).toArray()).map((doc) => doc._id).sort();
  assert.deepEqual(kept, Array.from({ length: 10 }, (_, n) => `${tenant}/${versionKey(last - 9 + n)}`));
});

test("a head that lags or is missing is probed past; one older than the kept history misleads gets only until the next put", async () => {
  const tenant = "drifting";
  const first = await tenants.put({ policy, expectedVersion: 0 }, { tenant });
  await putTimes(tenant, 2);
  await setHead(tenant, 1, first);
  assert.equal((await tenants.get({}, { tenant })).version, 3, "lagging head");
  await records.deleteOne({ _id: `${tenant}/head` });
  assert.equal((await tenants.get({}, { tenant })).version, 3, "no head");
  await putTimes(tenant, 12);
  assert.equal((await tenants.get({}, { tenant })).version, 15);
  await setHead(tenant, 2, first); // version 2 was trimmed long ago (versions 6..15 are kept)
  assert.equal((await tenants.get({}, { tenant })).version, 2, "a get trusts the head's copy when the next version is absent");
  assert.equal(await codeOf(tenants.put({ policy, expectedVersion: 2 }, { tenant })), "CONFLICT", "a put checks the head and finds 15");
  assert.equal((await tenants.put({ policy, expectedVersion: 15 }, { tenant })).version, 16);
  assert.equal((await tenants.get({}, { tenant })).version, 16, "the put moved the head on");
});
