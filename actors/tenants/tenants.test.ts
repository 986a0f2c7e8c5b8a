import { test, after } from "node:test";
import assert from "node:assert/strict";
import { jetstreamManager } from "@nats-io/jetstream";
import { tenantsContract, type TenantPolicyFields } from "../../protocol/tenants.ts";
import { actorClient, isMeshError, MeshClient } from "../../runtime/index.ts";
import { startInProcess } from "../../runtime/testing/replicas.ts";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { tenantsActor } from "./actor.ts";
import { policyEventId } from "./handlers.ts";

const servers = await useTestServers();
await startInProcess(tenantsActor, servers);
const nc = await servers.connectNats();
const mesh = new MeshClient(nc);
const tenants = actorClient(mesh, tenantsContract);
after(async () => {
  mesh.close();
  await nc.close();
});

const policy: TenantPolicyFields = {
  displayName: "Acme",
  limits: { requestsPerMinute: 60, tokensPerMinute: 100_000 },
  budget: { amountUsd: 10, period: "month" },
  allowedModels: ["gpt-4o-mini"],
  allowedTools: [],
  maxPromptTokens: 4000,
  retention: { storePrompts: false, retentionDays: 7 },
};

async function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(() => "OK", (error: unknown) => (isMeshError(error) ? error.code : String(error)));
}

test("put creates a versioned policy that get returns, and publishes tenant.updated", async () => {
  const created = await tenants.put({ policy, expectedVersion: 0 }, { tenant: "acme" });
  assert.equal(created.version, 1);
  assert.equal(created.tenantId, "acme");
  assert.deepEqual(await tenants.get({}, { tenant: "acme" }), created);
  const jsm = await jetstreamManager(nc);
  const event = await jsm.streams.getMessage("EVENTS_TENANTS", { last_by_subj: "events.tenants.updated" });
  assert.equal(event?.json<{ tenantId: string; version: number }>().version, 1);
  assert.equal(event?.header.get("Nats-Msg-Id"), policyEventId(created));
  assert.match(event?.header.get("Nats-Msg-Id") ?? "", /^acme:1:[0-9a-f]{16}$/);
});

test("a put with a stale version gets CONFLICT and changes nothing", async () => {
  await tenants.put({ policy, expectedVersion: 0 }, { tenant: "stale" });
  const v2 = await tenants.put({ policy: { ...policy, displayName: "Second" }, expectedVersion: 1 }, { tenant: "stale" });
  assert.equal(v2.version, 2);
  assert.equal(await codeOf(tenants.put({ policy: { ...policy, displayName: "Lost update" }, expectedVersion: 1 }, { tenant: "stale" })), "CONFLICT");
  assert.equal(await codeOf(tenants.put({ policy, expectedVersion: 0 }, { tenant: "stale" })), "CONFLICT");
  assert.equal((await tenants.get({}, { tenant: "stale" })).displayName, "Second");
});

test("concurrent puts of the same version: exactly one wins, the others get CONFLICT", async () => {
  await tenants.put({ policy, expectedVersion: 0 }, { tenant: "race" });
  const results = await Promise.all(Array.from({ length: 12 }, (_, n) =>
    codeOf(tenants.put({ policy: { ...policy, displayName: `writer ${n}` }, expectedVersion: 1 }, { tenant: "race" }))));
  assert.equal(results.filter((c) => c === "OK").length, 1, results.join(","));
  assert.equal(results.filter((c) => c === "CONFLICT").length, 11);
  assert.equal((await tenants.get({}, { tenant: "race" })).version, 2);
});

test("an unknown tenant gets NOT_FOUND, for get and for an update", async () => {
  assert.equal(await codeOf(tenants.get({}, { tenant: "nobody" })), "NOT_FOUND");
  assert.equal(await codeOf(tenants.put({ policy, expectedVersion: 3 }, { tenant: "nobody" })), "NOT_FOUND");
});

test("invalid policies get BAD_REQUEST and store nothing", async () => {
  const bad = [
    { policy: { ...policy, limits: { requestsPerMinute: -1, tokensPerMinute: 10 } }, expectedVersion: 0 },
    { policy: { ...policy, budget: { amountUsd: "ten", period: "month" } }, expectedVersion: 0 },
    { policy: { ...policy, unknownField: true }, expectedVersion: 0 },
    { policy: { displayName: "only a name" }, expectedVersion: 0 },
    { policy, expectedVersion: -1 },
  ];
  for (const input of bad) assert.equal(await codeOf(tenants.put(input as never, { tenant: "invalid" })), "BAD_REQUEST");
  assert.equal(await codeOf(tenants.get({}, { tenant: "invalid" })), "NOT_FOUND");
  assert.equal(await codeOf(tenants.get({}, { tenant: "Not A Tenant" })), "BAD_REQUEST");
});

test("tenants are isolated: one tenant's put never changes another's policy", async () => {
  await tenants.put({ policy: { ...policy, displayName: "Blue" }, expectedVersion: 0 }, { tenant: "blue" });
  await tenants.put({ policy: { ...policy, displayName: "Green" }, expectedVersion: 0 }, { tenant: "green" });
  assert.equal((await tenants.get({}, { tenant: "blue" })).displayName, "Blue");
  assert.equal((await tenants.get({}, { tenant: "green" })).displayName, "Green");
});

test("a put whose event cannot be published is withdrawn: UNAVAILABLE, the old version stays, a retry succeeds", async () => {
  await tenants.put({ policy, expectedVersion: 0 }, { tenant: "outage" });
  const jsm = await jetstreamManager(nc);
  const stream = await jsm.streams.info("EVENTS_TENANTS");
  await jsm.streams.delete("EVENTS_TENANTS");
  assert.equal(await codeOf(tenants.put({ policy: { ...policy, displayName: "During outage" }, expectedVersion: 1 }, { tenant: "outage", maxAttempts: 1 })), "UNAVAILABLE");
  const current = await tenants.get({}, { tenant: "outage" });
  assert.equal(current.version, 1);
  assert.equal(current.displayName, "Acme");
  await jsm.streams.add(stream.config);
  // The withdrawn put's event may have been stored after all (its publish timed out): stored now under its id.
  const withdrawn = { ...policy, displayName: "During outage", tenantId: "outage", version: 2, updatedAt: new Date().toISOString() };
  await jsm.jetstream().publish("events.tenants.updated", JSON.stringify({ tenantId: "outage", version: 2, policy: withdrawn }), { msgID: policyEventId(withdrawn) });
  const retried = await tenants.put({ policy: { ...policy, displayName: "After outage" }, expectedVersion: 1 }, { tenant: "outage" });
  assert.equal(retried.version, 2);
  const last = await jsm.streams.getMessage("EVENTS_TENANTS", { last_by_subj: "events.tenants.updated" });
  assert.equal(last?.json<{ policy: { displayName: string } }>().policy.displayName, "After outage", "the retry's event was stored, not dropped as a duplicate");
});
