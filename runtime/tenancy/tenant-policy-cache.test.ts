/** Cache semantics only; the tenants.get it wraps is exercised against real servers by the actors' tests. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { MeshError } from "../errors.ts";
import { createTenantPolicyCache } from "./tenant-policy-cache.ts";

/** A caller whose tenants.get answers with `answer`; records the options of each request. */
function caller(tenant: string, answer: () => Promise<unknown>, signal = new AbortController().signal) {
  const requests: { timeoutMs?: number }[] = [];
  const context = {
    tenant, signal, traceparent: "00-0123456789abcdef0123456789abcdef-0123456789abcdef-01",
    mesh: { client: { request: async (_contract: unknown, _input: unknown, options: { timeoutMs?: number }) => { requests.push(options); return answer(); } } },
  } as never;
  return { context, calls: () => requests.length, requests };
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

test("a first caller whose deadline ends gets TIMEOUT alone: the shared load runs on, on its own deadline, for the others", async () => {
  const cache = createTenantPolicyCache(60_000);
  let answer!: (policy: unknown) => void;
  const hurried = new AbortController();
  const first = caller("acme", () => new Promise((resolve) => { answer = resolve; }), hurried.signal);
  const second = caller("acme", async () => assert.fail("a second request for the same tenant"));
  const firstGets = cache.get(first.context);
  const secondGets = cache.get(second.context);
  hurried.abort();
  await assert.rejects(firstGets, (error: unknown) => (error as MeshError).code === "TIMEOUT");
  answer({ tenantId: "acme", version: 3 });
  assert.equal((await secondGets).version, 3);
  assert.deepEqual(first.requests.map((options) => options.timeoutMs), [5000], "the load's deadline is its own");
  const cachedForAborted = caller("acme", async () => assert.fail("cached"), AbortSignal.abort());
  assert.equal((await cache.get(cachedForAborted.context)).version, 3, "a hit is returned whatever the caller's signal");
  const aborted = caller("globex", () => new Promise(() => undefined), AbortSignal.abort());
  await assert.rejects(cache.get(aborted.context), (error: unknown) => (error as MeshError).code === "TIMEOUT", "an aborted caller does not wait for a load");
});
