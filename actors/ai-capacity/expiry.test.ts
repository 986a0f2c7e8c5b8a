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

test("a lease never settled (its caller was killed) gives capacity and budget back once, at expiry", async () => {
  // $0.01 a day covers exactly one lease of 1 000 gpt-4o tokens (reserved at $10 per million).
  await putTenant("forgetful", { budget: { amountUsd: 0.01, period: "day" }, limits: { requestsPerMinute: 100, tokensPerMinute: 100_000 } });
  const tenant = { tenant: "forgetful" };
  const lease = { service: "chat", model: "gpt-4o", estimatedTokens: 1000 };
  const abandoned = await capacity.lease(lease, tenant);
  assert.equal(await codeOf(capacity.lease(lease, tenant)), "OVER_BUDGET");
  assert.equal((await capacity.status({}, tenant)).tokensAvailable < 100_000, true);

  const after = await statusOnceReturned("forgetful", abandoned.expiresAt);
  assert.equal(after.reservedUsd, 0, "the reservation came back");
  assert.equal(after.spentUsd, 0);
  assert.equal(after.tokensAvailable, 100_000, "the grant came back, and only once: never past capacity");
  assert.equal(after.requestsAvailable, 100);
  const next = await capacity.lease(lease, tenant);
  assert.equal((await capacity.status({}, tenant)).reservedUsd, 0.01);
  await capacity.release({ leaseId: next.leaseId }, tenant);
  assert.equal((await capacity.release({ leaseId: abandoned.leaseId }, tenant)).released, false);
});

test("settling an expired lease still charges what was spent, once, and returns nothing twice", async () => {
  // 1 200 tokens a minute: 20 a second of refill, small next to the 200 tokens the late settle takes.
  await putTenant("late", { budget: { amountUsd: 5, period: "month" }, limits: { requestsPerMinute: 100, tokensPerMinute: 1200 } });
  const tenant = { tenant: "late" };
  const lease = await capacity.lease({ service: "chat", model: "gpt-4o", estimatedTokens: 1000 }, tenant);
  const expired = await statusOnceReturned("late", lease.expiresAt);
  assert.equal(expired.reservedUsd, 0);
  assert.equal(expired.tokensAvailable, 1200);

  // 100 prompt tokens at $2.50 and 100 completion tokens at $10 per million.
  const settling = Date.now();
  const settled = await capacity.settle({ leaseId: lease.leaseId, promptTokens: 100, completionTokens: 100 }, tenant);
  assert.deepEqual(settled, { leaseId: lease.leaseId, costUsd: 0.00125, returnedTokens: -200, alreadySettled: false });
  const again = await capacity.settle({ leaseId: lease.leaseId, promptTokens: 100, completionTokens: 100 }, tenant);
  assert.equal(again.alreadySettled, true);
  const status = await capacity.status({}, tenant);
  const refill = ((Date.now() - settling) * 1200) / 60_000;
  assert.equal(status.spentUsd, 0.00125);
  assert.equal(status.reservedUsd, 0);
  assert.ok(status.tokensAvailable <= 1000 + refill, `the used tokens were taken once: ${status.tokensAvailable}`);
});
