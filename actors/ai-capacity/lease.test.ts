import { test } from "node:test";
import assert from "node:assert/strict";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { codeOf, startCapacityMesh } from "./test-support.ts";

const servers = await useTestServers();
const { capacity, putTenant } = await startCapacityMesh(servers, { replicas: 2 });
const lease = { service: "chat", model: "gpt-4o", estimatedTokens: 1000 };

test("lease reserves an upper bound; settle charges the priced cost once and returns unused tokens", async () => {
  await putTenant("acme");
  const tenant = { tenant: "acme" };
  const grant = await capacity.lease(lease, tenant);
  assert.deepEqual(grant.price, { inputPerMillion: 2.5, outputPerMillion: 10 });
  assert.equal(grant.grantedTokens, 1000);
  assert.equal(grant.reservedUsd, 0.01, "1000 tokens at the output price of $10 per million");
  assert.equal((await capacity.status({}, tenant)).reservedUsd, 0.01);

  const settled = await capacity.settle({ leaseId: grant.leaseId, promptTokens: 300, completionTokens: 200 }, tenant);
  assert.deepEqual(settled, { leaseId: grant.leaseId, costUsd: 0.00275, returnedTokens: 500, alreadySettled: false });
  const again = await capacity.settle({ leaseId: grant.leaseId, promptTokens: 900, completionTokens: 900 }, tenant);
  assert.deepEqual(again, { ...settled, alreadySettled: true });
  const status = await capacity.status({}, tenant);
  assert.equal(status.spentUsd, 0.00275);
  assert.equal(status.reservedUsd, 0);
  assert.equal(status.budgetUsd, 100);
  assert.match(status.period, /^\d{4}-\d{2}-\d{2}$/);
  assert.equal(await codeOf(capacity.release({ leaseId: grant.leaseId }, tenant)), "OK");
  assert.equal((await capacity.release({ leaseId: grant.leaseId }, tenant)).released, false);
});

test("release gives the whole grant and the reservation back", async () => {
  await putTenant("small", { limits: { requestsPerMinute: 100, tokensPerMinute: 1000 } });
  const tenant = { tenant: "small" };
  const first = await capacity.lease(lease, tenant);
  const refused = await capacity.lease(lease, tenant).catch((error: unknown) => error);
  assert.equal((refused as { code?: string }).code, "RATE_LIMITED");
  assert.ok(((refused as { retryAfterMs?: number }).retryAfterMs ?? 0) >= 1);

  assert.deepEqual(await capacity.release({ leaseId: first.leaseId }, tenant), { leaseId: first.leaseId, released: true });
  const status = await capacity.status({}, tenant);
  assert.equal(status.tokensAvailable, 1000);
  assert.equal(status.reservedUsd, 0);
  assert.equal(status.spentUsd, 0);
  assert.deepEqual(await capacity.release({ leaseId: first.leaseId }, tenant), { leaseId: first.leaseId, released: false });
  assert.equal(await codeOf(capacity.settle({ leaseId: first.leaseId, promptTokens: 1, completionTokens: 1 }, tenant)), "CONFLICT");
  const second = await capacity.lease(lease, tenant);
  await capacity.release({ leaseId: second.leaseId }, tenant);
});

test("a model without a price or outside the tenant's allowed models is FORBIDDEN", async () => {
  await putTenant("picky", { allowedModels: ["gpt-4o-mini", "mystery-model"] });
  assert.equal(await codeOf(capacity.lease({ ...lease, model: "gpt-4o" }, { tenant: "picky" })), "FORBIDDEN");
  const unpriced = await capacity.lease({ ...lease, model: "mystery-model" }, { tenant: "picky" }).catch((error: unknown) => error);
  assert.equal((unpriced as { code?: string }).code, "FORBIDDEN");
  assert.match((unpriced as Error).message, /mystery-model has no price/);
  assert.equal(await codeOf(capacity.lease({ ...lease, model: "gpt-4o-mini" }, { tenant: "picky" })), "OK");
});

test("an unknown tenant gets NOT_FOUND, and so does an unknown lease", async () => {
  assert.equal(await codeOf(capacity.lease(lease, { tenant: "nobody" })), "NOT_FOUND");
  assert.equal(await codeOf(capacity.status({}, { tenant: "nobody" })), "NOT_FOUND");
  await putTenant("known");
  assert.equal(await codeOf(capacity.settle({ leaseId: "no-such-lease", promptTokens: 1, completionTokens: 1 }, { tenant: "known" })), "NOT_FOUND");
  assert.equal(await codeOf(capacity.release({ leaseId: "no-such-lease" }, { tenant: "known" })), "NOT_FOUND");
});

test("a lease of another tenant cannot be settled or released", async () => {
  await putTenant("owner");
  await putTenant("intruder");
  const grant = await capacity.lease(lease, { tenant: "owner" });
  assert.equal(await codeOf(capacity.settle({ leaseId: grant.leaseId, promptTokens: 1, completionTokens: 1 }, { tenant: "intruder" })), "NOT_FOUND");
  assert.equal(await codeOf(capacity.release({ leaseId: grant.leaseId }, { tenant: "intruder" })), "NOT_FOUND");
  assert.equal((await capacity.release({ leaseId: grant.leaseId }, { tenant: "owner" })).released, true);
});

test("bad input gets BAD_REQUEST and leaves nothing behind", async () => {
  await putTenant("careless", { limits: { requestsPerMinute: 10, tokensPerMinute: 5000 } });
  const tenant = { tenant: "careless" };
  const badLeases = [
    { ...lease, estimatedTokens: -5 },
    { ...lease, estimatedTokens: 0 },
    { ...lease, estimatedTokens: 1.5 },
    { ...lease, estimatedTokens: "100" },
    { service: "chat", model: "gpt-4o" },
    { ...lease, surprise: true },
    { ...lease, model: "" },
    { ...lease, service: "has spaces" },
    { ...lease, requests: 0 },
    { ...lease, estimatedTokens: 5001 }, // larger than the tenant's bucket: could never pass
    { ...lease, requests: 11 },
  ];
  for (const input of badLeases) assert.equal(await codeOf(capacity.lease(input as never, tenant)), "BAD_REQUEST", JSON.stringify(input));
  const badSettles = [
    { leaseId: "x", promptTokens: -1, completionTokens: 0 },
    { leaseId: "x", promptTokens: 1 },
    { leaseId: "", promptTokens: 1, completionTokens: 1 },
    { leaseId: "x", promptTokens: 1, completionTokens: 1, extra: 1 },
  ];
  for (const input of badSettles) assert.equal(await codeOf(capacity.settle(input as never, tenant)), "BAD_REQUEST", JSON.stringify(input));
  assert.equal(await codeOf(capacity.release({} as never, tenant)), "BAD_REQUEST");
  assert.equal(await codeOf(capacity.status({ tenant: "x" } as never, tenant)), "BAD_REQUEST");
  const status = await capacity.status({}, tenant);
  assert.equal(status.tokensAvailable, 5000);
  assert.equal(status.requestsAvailable, 10);
  assert.equal(status.reservedUsd, 0);
});
