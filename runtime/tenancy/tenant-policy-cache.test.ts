/** Cache semantics only; the tenants.get it wraps is exercised against real servers by the actors' tests. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { MeshError } from "../errors.ts";
import { createTenantPolicyCache } from "./tenant-policy-cache.ts";

function caller(tenant: string, answer: () => Promise<unknown>) {
  let calls = 0;
  const context = { tenant, mesh: { request: async () => { calls++; return answer(); } } } as never;
  return { context, calls: () => calls };
}

test("concurrent misses share one tenants.get, and a hit within the TTL asks nothing", async () => {
  const cache = createTenantPolicyCache(60_000);
  const acme = caller("acme", async () => ({ tenantId: "acme", version: 1 }));
  const results = await Promise.all([cache.get(acme.context), cache.get(acme.context), cache.get(acme.context)]);
  assert.equal(acme.calls(), 1);
  assert.deepEqual(results.map((p) => p.version), [1, 1, 1]);
  await cache.get(acme.context);
  assert.equal(acme.calls(), 1);
});

test("a failure (an unknown tenant) passes through typed and is not kept", async () => {
  const cache = createTenantPolicyCache(60_000);
  const nobody = caller("nobody", async () => { throw new MeshError("NOT_FOUND", "unknown tenant nobody"); });
  await assert.rejects(cache.get(nobody.context), (error: unknown) => (error as MeshError).code === "NOT_FOUND");
  await assert.rejects(cache.get(nobody.context));
  assert.equal(nobody.calls(), 2);
});

test("a TTL of 0 keeps nothing", async () => {
  const cache = createTenantPolicyCache(0);
  const acme = caller("acme", async () => ({ tenantId: "acme", version: 1 }));
  await cache.get(acme.context);
  await cache.get(acme.context);
  assert.equal(acme.calls(), 2);
});
