import assert from "node:assert/strict";
import { after, test } from "node:test";
import { headers as natsHeaders } from "@nats-io/nats-core";
import { aiCapacityContract } from "../../protocol/ai-capacity.ts";
import { llmContract } from "../../protocol/llm.ts";
import { REQUEST_INFO_HEADER } from "../../protocol/roles.ts";
import { tenantsContract } from "../../protocol/tenants.ts";
import { usageContract } from "../../protocol/usage.ts";
import { actorClient, MeshClient } from "../../runtime/index.ts";
import { ask, failureOf, startLlmMesh, TEST_POLICY, untilUsageConsumed } from "../../actors/llm/test-support.ts";
import { useTestServers } from "../testing/test-servers.ts";

const servers = await useTestServers();
const mesh = await startLlmMesh(servers, { usage: {} });
await mesh.createTenant("acme");
await mesh.createTenant("globex");
// Spend for both tenants, through the operator's (trusted) connection.
await mesh.llm.complete(ask("acme's question"), { tenant: "acme" });
await mesh.llm.complete(ask("globex's question"), { tenant: "globex" });
await mesh.llm.complete(ask("globex's second question"), { tenant: "globex" });
await untilUsageConsumed(mesh.jsm);

const nc = await servers.connectNats("tenant-acme");
const client = new MeshClient(nc, { maxAttempts: 1 });
after(() => client.close());
const tenants = actorClient(client, tenantsContract);
const llm = actorClient(client, llmContract);
const usage = actorClient(client, usageContract);

test("a tenant-scoped caller works as its own tenant: policy, completions, its own usage only", async () => {
  const report = await usage.report({ groupBy: "day" }, { tenant: "acme" });
  assert.equal(report.tenant, "acme");
  assert.equal(report.total.requests, 1, "acme's one request; globex's two are not in it");
  assert.equal((await mesh.usage.report({ groupBy: "day" }, { tenant: "globex" })).total.requests, 2);
  assert.equal((await tenants.get({}, { tenant: "acme" })).version, 1);
  assert.ok((await llm.complete(ask("hello"), { tenant: "acme", timeoutMs: 20_000 })).content);
});

test("another tenant's header, or none, is FORBIDDEN on every tenant-facing subject", async () => {
  for (const tenant of ["globex", undefined]) {
    const options = { ...(tenant ? { tenant } : {}), timeoutMs: 20_000 };
    assert.equal((await failureOf(tenants.get({}, options))).code, "FORBIDDEN");
    assert.equal((await failureOf(llm.complete(ask("let me in"), options))).code, "FORBIDDEN");
    assert.equal((await failureOf(usage.report({ groupBy: "day" }, options))).code, "FORBIDDEN");
  }
  // Nothing was spent for globex by those attempts.
  assert.equal((await mesh.usage.report({ groupBy: "day" }, { tenant: "globex" })).total.requests, 2);
});

test("a forged Nats-Request-Info header, in any spelling, does not make a tenant a service: still only acme", async () => {
  for (const name of [REQUEST_INFO_HEADER, REQUEST_INFO_HEADER.toLowerCase(), REQUEST_INFO_HEADER.toUpperCase()]) {
    const forged = natsHeaders();
    forged.set("Mw-Tenant", "globex");
    forged.set(name, JSON.stringify({ name_tag: "demo-service", tags: ["mw-service:demo-service"] }));
    const reply = await nc.request(tenantsContract.requests.get.subject, "{}", { timeout: 10_000, headers: forged });
    assert.equal(reply.headers?.get("Mw-Error"), "FORBIDDEN", name);
  }
});

test("subjects that are not tenant-facing are not even reachable for a tenant", async () => {
  const capacity = actorClient(client, aiCapacityContract);
  assert.equal((await failureOf(capacity.status({}, { tenant: "acme", timeoutMs: 20_000 }))).code, "FORBIDDEN");
  assert.equal((await failureOf(tenants.put({ policy: { ...TEST_POLICY, displayName: "Self-service" }, expectedVersion: 1 }, { tenant: "acme" }))).code, "FORBIDDEN");
  assert.equal((await tenants.get({}, { tenant: "acme" })).displayName, TEST_POLICY.displayName);
});
