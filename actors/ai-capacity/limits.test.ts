import { test } from "node:test";
import assert from "node:assert/strict";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { outcomeOf, startCapacityMesh } from "./test-support.ts";

const servers = await useTestServers();
const { capacity, putTenant } = await startCapacityMesh(servers, { replicas: 3 });

/** Concurrent leases from many callers at once; what was granted and how the rest were refused. */
async function burst(tenant: string, count: number, estimatedTokens: number) {
  const started = Date.now();
  const outcomes = await Promise.all(Array.from({ length: count }, (_, index) =>
    outcomeOf(capacity.lease({ service: `svc-${index % 3}`, model: "small-model", estimatedTokens }, { tenant }))));
  const elapsedMs = Date.now() - started;
  return {
    elapsedMs,
    granted: outcomes.filter((outcome) => outcome.ok).length,
    refusals: outcomes.flatMap((outcome) => (outcome.ok ? [] : [outcome])),
  };
}

test("the tenant's tokens per minute hold across 3 replicas: never more granted than capacity plus refill", async () => {
  await putTenant("tokens-capped", { limits: { requestsPerMinute: 10_000, tokensPerMinute: 1000 } });
  const { granted, refusals, elapsedMs } = await burst("tokens-capped", 30, 100);
  // The bucket starts full (1 000 tokens) and refills at 1 000 per minute while the burst runs.
  const ceiling = Math.floor((1000 + (elapsedMs * 1000) / 60_000) / 100);
  assert.ok(granted >= 10 && granted <= ceiling, `granted ${granted}, at most ${ceiling}`);
  assert.ok(refusals.every((refusal) => refusal.code === "RATE_LIMITED"), JSON.stringify(refusals));
  for (const refusal of refusals) {
    // Time for the missing part of 100 tokens at 1 000 per minute: at most 6 s.
    assert.ok(refusal.retryAfterMs !== undefined && refusal.retryAfterMs >= 1 && refusal.retryAfterMs <= 6000, String(refusal.retryAfterMs));
  }
});

test("the tenant's requests per minute hold across 3 replicas", async () => {
  await putTenant("requests-capped", { limits: { requestsPerMinute: 5, tokensPerMinute: 1_000_000 } });
  const { granted, refusals, elapsedMs } = await burst("requests-capped", 20, 10);
  const ceiling = Math.floor(5 + (elapsedMs * 5) / 60_000);
  assert.ok(granted >= 5 && granted <= ceiling, `granted ${granted}, at most ${ceiling}`);
  assert.equal(refusals.length, 20 - granted);
  assert.ok(refusals.every((refusal) => refusal.code === "RATE_LIMITED" && (refusal.retryAfterMs ?? 0) >= 1));
});

test("a lease bigger than a bucket can ever hold is BAD_REQUEST, not RATE_LIMITED", async () => {
  await putTenant("tiny", { limits: { requestsPerMinute: 2, tokensPerMinute: 500 } });
  const tooMany = await outcomeOf(capacity.lease({ service: "chat", model: "small-model", estimatedTokens: 501 }, { tenant: "tiny" }));
  assert.equal(tooMany.ok ? "OK" : tooMany.code, "BAD_REQUEST");
  const tooOften = await outcomeOf(capacity.lease({ service: "chat", model: "small-model", estimatedTokens: 5, requests: 3 }, { tenant: "tiny" }));
  assert.equal(tooOften.ok ? "OK" : tooOften.code, "BAD_REQUEST");
  // A lease for several calls (a capacity share) may take at most a quarter of a limit: a whole one is refused for now.
  const wholeShare = await outcomeOf(capacity.lease({ service: "chat", model: "small-model", estimatedTokens: 500, requests: 2 }, { tenant: "tiny" }));
  assert.equal(wholeShare.ok ? "OK" : wholeShare.code, "RATE_LIMITED");
  const fits = await outcomeOf(capacity.lease({ service: "chat", model: "small-model", estimatedTokens: 500 }, { tenant: "tiny" }));
  assert.equal(fits.ok, true);
});
