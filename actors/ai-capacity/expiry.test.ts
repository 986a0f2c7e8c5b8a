import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import type { CapacityStatus } from "../../protocol/ai-capacity.ts";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { codeOf, startCapacityMesh } from "./test-support.ts";

const servers = await useTestServers();
const SWEEP_MS = 50;
const { capacity, putTenant } = await startCapacityMesh(servers, { replicas: 3, config: { leaseTtlMs: 300, sweepIntervalMs: SWEEP_MS } });

/** The sweepers run on their own clock: look again each sweep interval, for a bounded time. */
async function statusOnceReturned(tenant: string, expiresAt: number): Promise<CapacityStatus> {
  await sleep(Math.max(0, expiresAt - Date.now()));
  const giveUpAt = Date.now() + 10_000;
  for (;;) {
    const status = await capacity.status({}, { tenant });
    if (status.reservedUsd === 0 || Date.now() > giveUpAt) return status;
    await sleep(SWEEP_MS);
  }
}

test("a lease never settled (its caller was killed) is charged its reservation once at expiry; a release later gives it back", async () => {
  // $0.01 a day covers exactly one lease of 1 000 gpt-4o tokens (reserved at $10 per million).
  // 4 000 tokens a minute refill the lease's 1 000 in 15 s: the grant is still seen taken however
  // late a loaded machine's sweep comes (at 100 000 a minute it was back in 0.6 s).
  await putTenant("forgetful", { budget: { amountUsd: 0.01, period: "day" }, limits: { requestsPerMinute: 100, tokensPerMinute: 4_000 } });
  const tenant = { tenant: "forgetful" };
  const lease = { service: "chat", model: "gpt-4o", estimatedTokens: 1000 };
  const abandoned = await capacity.lease(lease, tenant);
  assert.equal(await codeOf(capacity.lease(lease, tenant)), "OVER_BUDGET");

  const expired = await statusOnceReturned("forgetful", abandoned.expiresAt);
  assert.equal(expired.reservedUsd, 0, "the reservation left the reserved total");
  assert.equal(expired.spentUsd, 0.01, "and was charged: the provider may have billed the call");
  assert.ok(expired.tokensAvailable < 4_000, "the grant stays taken until the truth arrives");
  assert.equal(await codeOf(capacity.lease(lease, tenant)), "OVER_BUDGET", "the conservative charge counts against the budget");

  assert.equal((await capacity.release({ leaseId: abandoned.leaseId }, tenant)).released, true, "a release says nothing was billed");
  const corrected = await capacity.status({}, tenant);
  assert.equal(corrected.spentUsd, 0);
  assert.equal(corrected.tokensAvailable, 4_000, "the grant came back, and only once: never past capacity");
  assert.equal(corrected.requestsAvailable, 100);
  assert.equal((await capacity.release({ leaseId: abandoned.leaseId }, tenant)).released, false, "a repeat changes nothing");
  const next = await capacity.lease(lease, tenant);
  assert.equal((await capacity.status({}, tenant)).reservedUsd, 0.01);
  await capacity.release({ leaseId: next.leaseId }, tenant);
});

test("settling an expired lease corrects its conservative charge to the cost, once, and returns the unused grant once", async () => {
  // 1 200 tokens a minute: 20 a second of refill.
  await putTenant("late", { budget: { amountUsd: 5, period: "month" }, limits: { requestsPerMinute: 100, tokensPerMinute: 1200 } });
  const tenant = { tenant: "late" };
  const leasedAt = Date.now();
  const lease = await capacity.lease({ service: "chat", model: "gpt-4o", estimatedTokens: 1000 }, tenant);
  const expired = await statusOnceReturned("late", lease.expiresAt);
  assert.equal(expired.reservedUsd, 0);
  assert.equal(expired.spentUsd, 0.01, "charged the reservation: 1 000 tokens at $10 per million");

  // 100 prompt tokens at $2.50 and 100 completion tokens at $10 per million.
  const settled = await capacity.settle({ leaseId: lease.leaseId, promptTokens: 100, completionTokens: 100 }, tenant);
  assert.deepEqual(settled, { leaseId: lease.leaseId, costUsd: 0.00125, returnedTokens: 800, alreadySettled: false });
  const again = await capacity.settle({ leaseId: lease.leaseId, promptTokens: 100, completionTokens: 100 }, tenant);
  assert.equal(again.alreadySettled, true);
  const status = await capacity.status({}, tenant);
  assert.equal(status.spentUsd, 0.00125);
  assert.equal(status.reservedUsd, 0);
  const refill = ((Date.now() - leasedAt) * 1200) / 60_000;
  assert.ok(status.tokensAvailable <= 1000 + refill, `the used tokens stay taken, the rest came back once: ${status.tokensAvailable}`);
});

test("a lease lives as long as the call it admits: callTimeoutMs plus the settle grace; a longer call than AI_MAX_CALL_MS is refused", async () => {
  await putTenant("long-call");
  const tenant = { tenant: "long-call" };
  const before = Date.now();
  const lease = await capacity.lease({ service: "chat", model: "gpt-4o", estimatedTokens: 10, callTimeoutMs: 5000 }, tenant);
  assert.ok(lease.expiresAt >= before + 5000 + 300, `expires ${lease.expiresAt - before} ms after the request`);
  await capacity.release({ leaseId: lease.leaseId }, tenant);
  assert.equal(await codeOf(capacity.lease({ service: "chat", model: "gpt-4o", estimatedTokens: 10, callTimeoutMs: 700_000 }, tenant)), "BAD_REQUEST");
  assert.equal(await codeOf(capacity.lease({ service: "chat", model: "gpt-4o", estimatedTokens: 10, callTimeoutMs: -1 }, tenant)), "BAD_REQUEST");
  assert.equal(await codeOf(capacity.lease({ service: "chat", model: "gpt-4o", estimatedTokens: 10, callTimeoutMs: 1.5 }, tenant)), "BAD_REQUEST");
  assert.equal((await capacity.status({}, tenant)).reservedUsd, 0, "a refused lease reserves nothing");
});
