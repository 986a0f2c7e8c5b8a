import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { codeOf, outcomeOf, startCapacityMesh } from "./test-support.ts";

const servers = await useTestServers();
// Windows of 0: every signal counts, so the test needs no waiting between signals.
const { capacity, putTenant } = await startCapacityMesh(servers, { replicas: 3, config: { healthDecreaseWindowMs: 0, healthRecoveryWindowMs: 0 } });
const tenant = { tenant: "adaptive" };
await putTenant("adaptive", { limits: { requestsPerMinute: 1000, tokensPerMinute: 1000 } });

async function leaseAndRelease(model: string, estimatedTokens: number) {
  const outcome = await outcomeOf(capacity.lease({ service: "chat", model, estimatedTokens }, tenant));
  if (outcome.ok) await capacity.release({ leaseId: outcome.value.leaseId }, tenant);
  return outcome;
}

test("rate_limited signals shrink a model's capacity, with a cool-down; ok signals let it recover", async () => {
  assert.equal((await leaseAndRelease("small-model", 600)).ok, true);

  const limited = await capacity.signal({ model: "small-model", outcome: "rate_limited", latencyMs: 120, retryAfterMs: 300 }, tenant);
  assert.equal(limited.capacityFactor, 0.5);
  assert.ok(limited.coolDownUntil !== undefined);
  const coolingDown = await leaseAndRelease("small-model", 10);
  assert.equal(coolingDown.ok ? "OK" : coolingDown.code, "RATE_LIMITED");
  assert.ok(!coolingDown.ok && coolingDown.retryAfterMs !== undefined && coolingDown.retryAfterMs >= 1 && coolingDown.retryAfterMs <= 300);
  assert.equal((await leaseAndRelease("gpt-4o-mini", 600)).ok, true, "other models are not affected");

  await sleep(Math.max(0, limited.coolDownUntil! - Date.now()) + 5);
  const tooBig = await leaseAndRelease("small-model", 600); // the bucket is 500 now
  assert.equal(tooBig.ok ? "OK" : tooBig.code, "RATE_LIMITED");
  assert.ok(!tooBig.ok && (tooBig.retryAfterMs ?? 0) >= 1);
  assert.equal((await leaseAndRelease("small-model", 400)).ok, true);

  assert.equal((await capacity.signal({ model: "small-model", outcome: "timeout", latencyMs: 30_000 }, tenant)).capacityFactor, 0.25);
  assert.equal((await capacity.signal({ model: "small-model", outcome: "error", latencyMs: 10 }, tenant)).capacityFactor, 0.25);
  assert.equal((await capacity.signal({ model: "small-model", outcome: "ok", latencyMs: 60_000 }, tenant)).capacityFactor, 0.25, "a slow ok does not count");
  const recovery: number[] = [];
  for (let step = 0; step < 9; step++) {
    recovery.push((await capacity.signal({ model: "small-model", outcome: "ok", latencyMs: 200 }, tenant)).capacityFactor);
  }
  assert.deepEqual(recovery, [0.35, 0.45, 0.55, 0.65, 0.75, 0.85, 0.95, 1, 1]);
  assert.equal((await leaseAndRelease("small-model", 600)).ok, true);
});

test("repeated rate limits floor the factor at 0.05, never at zero", async () => {
  let factor = 1;
  for (let step = 0; step < 8; step++) {
    factor = (await capacity.signal({ model: "large-model", outcome: "rate_limited", latencyMs: 50 }, tenant)).capacityFactor;
  }
  assert.equal(factor, 0.05);
  assert.equal((await leaseAndRelease("large-model", 50)).ok, true, "5% of 1 000 tokens still passes 50");
});

test("bad signals get BAD_REQUEST", async () => {
  const bad = [
    { model: "small-model", outcome: "ok", latencyMs: -1 },
    { model: "small-model", outcome: "meh", latencyMs: 1 },
    { model: "small-model", latencyMs: 1 },
    { model: "small-model", outcome: "ok", latencyMs: 1, extra: true },
    { model: "no-such-model", outcome: "ok", latencyMs: 1 },
    { model: "small-model", outcome: "rate_limited", latencyMs: 1, retryAfterMs: 1.5 },
  ];
  for (const input of bad) assert.equal(await codeOf(capacity.signal(input as never, tenant)), "BAD_REQUEST", JSON.stringify(input));
});
