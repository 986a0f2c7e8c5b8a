import { test } from "node:test";
import assert from "node:assert/strict";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { outcomeOf, startCapacityMesh } from "./test-support.ts";

const servers = await useTestServers();
const { capacity, putTenant } = await startCapacityMesh(servers, { replicas: 3 });

test("100 concurrent leases on 3 replicas never commit more than the budget", async () => {
  // $1 a day; each lease reserves 10 000 tokens at large-model's $4 per million output = $0.04: 25 fit.
  await putTenant("thrifty", { budget: { amountUsd: 1, period: "day" }, limits: { requestsPerMinute: 100_000, tokensPerMinute: 100_000_000 } });
  const tenant = { tenant: "thrifty" };
  let leasing = true;
  let highestCommitted = 0;
  const watcher = (async () => {
    while (leasing) {
      const status = await capacity.status({}, tenant);
      highestCommitted = Math.max(highestCommitted, status.spentUsd + status.reservedUsd);
    }
  })();
  const outcomes = await Promise.all(Array.from({ length: 100 }, () =>
    outcomeOf(capacity.lease({ service: "batch", model: "large-model", estimatedTokens: 10_000 }, tenant))));
  leasing = false;
  await watcher;

  const granted = outcomes.flatMap((outcome) => (outcome.ok ? [outcome.value] : []));
  const refusals = outcomes.flatMap((outcome) => (outcome.ok ? [] : [outcome.code]));
  assert.deepEqual([...new Set(refusals)], ["OVER_BUDGET"]);
  assert.equal(granted.length, 25);
  assert.ok(highestCommitted <= 1, `committed ${highestCommitted} while leasing`);
  const reserved = await capacity.status({}, tenant);
  assert.equal(reserved.reservedUsd, 1);
  assert.equal(reserved.spentUsd, 0);

  // Each call used 2 000 prompt and 5 000 completion tokens: $0.002 + $0.02.
  const settled = await Promise.all(granted.map((grant) =>
    capacity.settle({ leaseId: grant.leaseId, promptTokens: 2000, completionTokens: 5000 }, tenant)));
  assert.ok(settled.every((result) => result.costUsd === 0.022 && result.returnedTokens === 3000));
  const final = await capacity.status({}, tenant);
  assert.equal(final.reservedUsd, 0);
  assert.ok(Math.abs(final.spentUsd - 0.55) < 1e-9, `spent ${final.spentUsd}`);
  assert.ok(final.spentUsd <= final.budgetUsd);
});

test("a lease larger than what is left of the budget is OVER_BUDGET and takes no capacity", async () => {
  await putTenant("nearly-broke", { budget: { amountUsd: 0.01, period: "month" }, limits: { requestsPerMinute: 10, tokensPerMinute: 100_000 } });
  const tenant = { tenant: "nearly-broke" };
  // 2 600 tokens at gpt-4o's $10 per million = $0.026 > $0.01.
  const refused = await outcomeOf(capacity.lease({ service: "chat", model: "gpt-4o", estimatedTokens: 2600 }, tenant));
  assert.equal(refused.ok ? "OK" : refused.code, "OVER_BUDGET");
  const status = await capacity.status({}, tenant);
  assert.match(status.period, /^\d{4}-\d{2}$/);
  assert.equal(status.tokensAvailable, 100_000);
  assert.equal(status.requestsAvailable, 10);
  assert.equal(status.reservedUsd, 0);
});
