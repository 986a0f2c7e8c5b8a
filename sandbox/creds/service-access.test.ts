import assert from "node:assert/strict";
import { after, test } from "node:test";
import { llmContract } from "../../protocol/llm.ts";
import { tenantsContract } from "../../protocol/tenants.ts";
import { actorClient, MeshClient } from "../../runtime/index.ts";
import { ask, failureOf, startLlmMesh, TEST_POLICY } from "../../actors/llm/test-support.ts";
import { useTestServers } from "../testing/test-servers.ts";
import { DEMO_SERVICE } from "./mesh-credentials.ts";
import { refusedBy } from "./test-support.ts";

const servers = await useTestServers();
const mesh = await startLlmMesh(servers);
await mesh.createTenant("acme");
await mesh.createTenant("globex");
const nc = await servers.connectNats(DEMO_SERVICE);
const client = new MeshClient(nc, { service: DEMO_SERVICE, maxAttempts: 1 });
after(() => client.close());
const tenants = actorClient(client, tenantsContract);
const llm = actorClient(client, llmContract);

test("a trusted service reads any tenant's policy and runs completions for any tenant", async () => {
  assert.equal((await tenants.get({}, { tenant: "acme" })).displayName, TEST_POLICY.displayName);
  assert.equal((await tenants.get({}, { tenant: "globex" })).version, 1);
  const answer = await llm.complete(ask("hello"), { tenant: "globex", timeoutMs: 20_000 });
  assert.ok(answer.content);
});

test("tenants.put needs the tenant-admin role: FORBIDDEN at once, long before the deadline, and nothing changes", async () => {
  const started = Date.now();
  const error = await failureOf(tenants.put({ policy: { ...TEST_POLICY, displayName: "Rewritten" }, expectedVersion: 1 }, { tenant: "acme", timeoutMs: 60_000 }));
  assert.equal(error.code, "FORBIDDEN");
  assert.ok(Date.now() - started < 30_000, "refused by the server, not left to time out");
  assert.equal((await tenants.get({}, { tenant: "acme" })).version, 1);
});

test("a service cannot listen on request subjects or another user's inbox, nor forge events", async () => {
  const refused = await refusedBy(nc, () => {
    nc.subscribe("llm.complete");
    nc.subscribe("llm.complete", { queue: "llm" });
    nc.subscribe("tenants.>");
    nc.subscribe("_INBOX.llm.>");
    nc.publish("events.llm.usage", "{}");
    nc.publish("ai-capacity.settle", "{}");
  });
  assert.deepEqual(refused, [
    "subscription llm.complete",
    "subscription llm.complete",
    "subscription tenants.>",
    "subscription _INBOX.llm.>",
    "publish events.llm.usage",
    "publish ai-capacity.settle",
  ]);
});

test("the service still works after its refused attempts (a refusal does not cost the connection)", async () => {
  assert.equal((await tenants.get({}, { tenant: "acme" })).version, 1);
});
