import assert from "node:assert/strict";
import { test } from "node:test";
import { createKeyCache } from "./key-cache.ts";

test("a revoked key is refused once the cache time has passed, never later; unknown keys are not remembered", async () => {
  const owners = new Map([["key-a", "acme"]]);
  let reads = 0;
  let now = 0;
  const cache = createKeyCache({ tenantOf: async (key) => { reads++; return owners.get(key); } }, 5000, () => now);
  assert.equal(await cache.tenantOf("key-a"), "acme");
  owners.delete("key-a"); // revoked
  now = 4999;
  assert.equal(await cache.tenantOf("key-a"), "acme", "still cached inside the bound");
  now = 5000;
  assert.equal(await cache.tenantOf("key-a"), undefined, "refused at the bound");
  assert.equal(reads, 2);

  assert.equal(await cache.tenantOf("key-b"), undefined);
  owners.set("key-b", "globex");
  assert.equal(await cache.tenantOf("key-b"), "globex", "a new key works at once");
});

test("concurrent lookups of one key share one read", async () => {
  let reads = 0;
  const cache = createKeyCache({ tenantOf: async () => { reads++; return "acme"; } }, 5000);
  await Promise.all(Array.from({ length: 20 }, () => cache.tenantOf("k")));
  assert.equal(reads, 1);
});
