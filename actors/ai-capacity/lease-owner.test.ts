import assert from "node:assert/strict";
import { after, test } from "node:test";
import { aiCapacityContract } from "../../protocol/ai-capacity.ts";
import { actorClient, MeshClient } from "../../runtime/index.ts";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { codeOf, startCapacityMesh } from "./test-support.ts";

const servers = await useTestServers();
const { putTenant } = await startCapacityMesh(servers);
await putTenant("acme");
const tenant = { tenant: "acme" };
const lease = { service: "chat", model: "gpt-4o", estimatedTokens: 1000 };

/** ai-capacity as seen by one NATS user. */
async function capacityAs(user: string) {
  const client = new MeshClient(await servers.connectNats(user), { service: user, maxAttempts: 1 });
  after(() => client.close());
  return actorClient(client, aiCapacityContract);
}
// A service user holding the lease-holder role (services account), and the llm actor's own user (mesh account).
const service = await capacityAs("lease-service");
const llm = await capacityAs("llm");
const demo = await capacityAs("demo-service");

test("a lease taken by a service settles and releases only for that service, not for llm", async () => {
  const grant = await service.lease(lease, tenant);
  assert.equal(await codeOf(llm.settle({ leaseId: grant.leaseId, promptTokens: 0, completionTokens: 0 }, tenant)), "FORBIDDEN");
  assert.equal(await codeOf(llm.release({ leaseId: grant.leaseId }, tenant)), "FORBIDDEN");
  const settled = await service.settle({ leaseId: grant.leaseId, promptTokens: 300, completionTokens: 200 }, tenant);
  assert.equal(settled.costUsd, 0.00275, "charged what its owner reported, not the 0 tokens of the other caller");
  assert.equal(await codeOf(llm.settle({ leaseId: grant.leaseId, promptTokens: 0, completionTokens: 0 }, tenant)), "FORBIDDEN", "nor its stored settlement");
});

test("a lease taken by llm cannot be settled or released by a service that holds the same role", async () => {
  const grant = await llm.lease(lease, tenant);
  assert.equal(await codeOf(service.release({ leaseId: grant.leaseId }, tenant)), "FORBIDDEN");
  assert.equal(await codeOf(service.settle({ leaseId: grant.leaseId, promptTokens: 0, completionTokens: 0 }, tenant)), "FORBIDDEN");
  assert.deepEqual(await llm.release({ leaseId: grant.leaseId }, tenant), { leaseId: grant.leaseId, released: true });
});

test("without the lease-holder role the server refuses lease, settle and release outright; unknown ids stay NOT_FOUND", async () => {
  const grant = await service.lease(lease, tenant);
  assert.equal(await codeOf(demo.lease(lease, tenant)), "FORBIDDEN");
  assert.equal(await codeOf(demo.settle({ leaseId: grant.leaseId, promptTokens: 0, completionTokens: 0 }, tenant)), "FORBIDDEN");
  assert.equal(await codeOf(demo.release({ leaseId: grant.leaseId }, tenant)), "FORBIDDEN");
  assert.equal(await codeOf(service.settle({ leaseId: "no-such-lease", promptTokens: 1, completionTokens: 1 }, tenant)), "NOT_FOUND");
  assert.equal((await service.release({ leaseId: grant.leaseId }, tenant)).released, true);
});

test("idempotency keys are the caller's own: another caller using the owner's key first spoils nothing", async () => {
  const grant = await service.lease(lease, tenant);
  const key = `settle-${grant.leaseId}`;
  const intruder = llm.settle({ leaseId: grant.leaseId, promptTokens: 0, completionTokens: 0 }, { ...tenant, idempotencyKey: key });
  assert.equal(await codeOf(intruder), "FORBIDDEN");
  const settled = await service.settle({ leaseId: grant.leaseId, promptTokens: 100, completionTokens: 0 }, { ...tenant, idempotencyKey: key });
  assert.equal(settled.alreadySettled, false, "the owner's settle ran; the intruder's stored refusal was not replayed to it");
  const replay = await service.settle({ leaseId: grant.leaseId, promptTokens: 100, completionTokens: 0 }, { ...tenant, idempotencyKey: key });
  assert.deepEqual(replay, settled, "the owner's own repeat replays its stored reply");
});
