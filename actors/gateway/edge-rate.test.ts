import assert from "node:assert/strict";
import { test } from "node:test";
import { createEdgeRate } from "./edge-rate.ts";

test("a tenant gets its per-minute rate as a bucket: a minute's share at once, then one per refill interval", () => {
  const rate = createEdgeRate(1);
  const results = Array.from({ length: 13 }, () => rate.take("globex", 12, 0));
  assert.equal(results.filter((r) => r.ok).length, 12);
  assert.deepEqual(results[12], { ok: false, retryAfterMs: 5000 });
  assert.deepEqual(rate.take("globex", 12, 4999), { ok: false, retryAfterMs: 1 });
  assert.deepEqual(rate.take("globex", 12, 5000), { ok: true });
  assert.deepEqual(rate.take("acme", 12, 5000), { ok: true }, "tenants have separate buckets");
});

test("each of N replicas admits 1/N of the rate", () => {
  const rate = createEdgeRate(2);
  const admitted = Array.from({ length: 10 }, () => rate.take("globex", 12, 0)).filter((r) => r.ok).length;
  assert.equal(admitted, 6);
  const tiny = createEdgeRate(4);
  assert.deepEqual(tiny.take("small", 1, 0), { ok: true }, "a rate below the replica count still admits one request per replica");
});
