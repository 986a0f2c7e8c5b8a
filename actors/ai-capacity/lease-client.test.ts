import { test } from "node:test";
import assert from "node:assert/strict";
import { aiCapacityContract } from "../../protocol/ai-capacity.ts";
import { createLeaseClient } from "../../runtime/ai/lease-client.ts";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { startCapacityMesh } from "./test-support.ts";

const servers = await useTestServers();
const { nc, mesh, capacity, putTenant } = await startCapacityMesh(servers, { replicas: 2 });

/** Copies of every request on a subject (a plain subscription sees them beside the queue group). */
function recordRequests(subject: string): unknown[] {
  const seen: unknown[] = [];
  nc.subscribe(subject, { callback: (_error, msg) => { seen.push(msg.json()); } });
  return seen;
}

test("capacity shares: several calls under one share; the unused part goes back when it is settled", async () => {
  await putTenant("pooled", { limits: { requestsPerMinute: 100, tokensPerMinute: 2000 } });
  const leases = recordRequests(aiCapacityContract.requests.lease.subject);
  const settles = recordRequests(aiCapacityContract.requests.settle.subject);
  await nc.flush();
  const client = createLeaseClient(mesh, { service: "chat", shares: { maxTokens: 100_000, callTimeoutMs: 1000 } });

  const started = Date.now();
  const calls = await Promise.all([0, 1, 2].map(() => client.acquire({ tenant: "pooled", model: "gpt-4o-mini", estimatedTokens: 100 })));
  assert.equal(new Set(calls.map((call) => call.leaseId)).size, 1);
  const held = await capacity.status({}, { tenant: "pooled" });
  assert.ok(held.tokensAvailable < 1700, `one share of 400 tokens (4 calls of this size) is held: ${held.tokensAvailable} left`);
  // gpt-4o-mini: $0.15 per million prompt tokens, $0.60 per million completion tokens.
  for (const call of calls) assert.deepEqual(await call.settle({ promptTokens: 30, completionTokens: 20 }), { costUsd: 0.0000165 });

  await client.close();
  await nc.flush();
  assert.equal(leases.length, 2, "the share, and the next one asked for once less than half of it was left");
  assert.deepEqual(settles, [{ leaseId: calls[0]!.leaseId, promptTokens: 90, completionTokens: 60, requests: 3 }]);
  const after = await capacity.status({}, { tenant: "pooled" });
  assert.ok(Math.abs(after.spentUsd - 0.0000495) < 1e-12, `spent ${after.spentUsd}`);
  assert.equal(after.reservedUsd, 0);
  // The 150 tokens used stay taken, the other 250 came back; the bucket refills at 2 000 a minute meanwhile.
  const refill = ((Date.now() - started) * 2000) / 60_000;
  assert.ok(after.tokensAvailable >= 1850 && after.tokensAvailable <= 1850 + refill, `tokens available ${after.tokensAvailable}`);
});

test("a small tenant's limits are not cut into shares: a share over a quarter of a limit is refused and calls lease one by one", async () => {
  await putTenant("small", { limits: { requestsPerMinute: 6, tokensPerMinute: 100_000 } });
  const leases = recordRequests(aiCapacityContract.requests.lease.subject);
  await nc.flush();
  const client = createLeaseClient(mesh, { service: "chat", shares: { maxTokens: 100_000, callTimeoutMs: 1000 } });
  const calls = [];
  for (let i = 0; i < 3; i++) calls.push(await client.acquire({ tenant: "small", model: "gpt-4o-mini", estimatedTokens: 100 }));
  assert.ok(calls.every((call) => !call.local), "every call has a lease of its own");
  await nc.flush();
  assert.deepEqual(leases.map((lease) => (lease as { requests: number }).requests), [4, 1, 1, 1], "one share asked for (4 calls > 6/4), then calls alone");
  for (const call of calls) await call.settle({ promptTokens: 10, completionTokens: 10 });
  await client.close();
  const status = await capacity.status({}, { tenant: "small" });
  assert.equal(status.reservedUsd, 0);
});
