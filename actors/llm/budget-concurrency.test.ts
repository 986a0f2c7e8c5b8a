import assert from "node:assert/strict";
import { test } from "node:test";
import pLimit from "p-limit";
import { aiCapacityContract } from "../../protocol/ai-capacity.ts";
import type { BilledCall } from "../../sandbox/provider/test-provider.ts";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { ask, startLlmMesh, sumOf, untilSettled, untilState } from "./test-support.ts";

const CALLS = 2000;
// At most this many at once: the three llm replicas take 128 each before shedding load; twice what
// the two ai-capacity replicas take (64 each), so refused calls wait their turn for a lease.
const IN_FLIGHT = 256;
const servers = await useTestServers();
const mesh = await startLlmMesh(servers, { llmReplicas: 3, capacityReplicas: 2 });

type Outcome = { ok: true; costUsd: number; tokens: number } | { ok: false; error: unknown };

/** `maxAttempts`: the caller's client retries OVERLOADED and RATE_LIMITED (with their hints) unless told otherwise. */
async function rush(tenant: string, calls: number, inFlight = IN_FLIGHT, maxAttempts = 3): Promise<Outcome[]> {
  const limit = pLimit(inFlight);
  return Promise.all(Array.from({ length: calls }, (_, i) => limit(() =>
    mesh.llm.complete(ask(`request number ${i}`, { maxTokens: 16 }), { tenant, timeoutMs: 60_000, maxAttempts })
      .then((result): Outcome => ({ ok: true, costUsd: result.costUsd, tokens: result.usage.promptTokens + result.usage.completionTokens }),
        (error: unknown): Outcome => ({ ok: false, error })))));
}

const ADMITTED_BEFORE_ANSWER_MS = 6000;

/**
 * Of every run of billed calls spanning at most 60 s, the one closest to the bucket's bound: a full
 * bucket (one minute of tokens) plus what it refills over the span. Tokens are taken from the
 * bucket before the provider answers: by a replica's share up to its usable life (5 s) before
 * the calls it admits, plus the call itself; the span gets that much refill (6 s) on top.
 */
function worstWindow(billed: readonly BilledCall[], tokensPerMinute: number): { tokens: number; spanMs: number; bound: number } {
  let worst = { tokens: 0, spanMs: 0, bound: tokensPerMinute, margin: tokensPerMinute };
  for (let first = 0; first < billed.length; first++) {
    let tokens = 0;
    for (let last = first; last < billed.length && billed[last]!.at - billed[first]!.at <= 60_000; last++) {
      tokens += billed[last]!.tokens;
      const spanMs = billed[last]!.at - billed[first]!.at;
      const bound = tokensPerMinute + (tokensPerMinute * (spanMs + ADMITTED_BEFORE_ANSWER_MS)) / 60_000;
      if (bound - tokens < worst.margin) worst = { tokens, spanMs, bound, margin: bound - tokens };
    }
  }
  return worst;
}

/** Lease requests ai-capacity's replicas answered with `code`, from their request counters. */
async function leaseRefusals(code: string): Promise<number> {
  let total = 0;
  for (const replica of mesh.capacityReplicas) {
    const { values } = await replica.metrics.requests.get();
    for (const value of values) if (value.labels.subject === aiCapacityContract.requests.lease.subject && value.labels.code === code) total += value.value;
  }
  return total;
}

const codesOf = (outcomes: Outcome[]) => [...new Set(outcomes.flatMap((outcome) => (outcome.ok ? [] : [(outcome.error as { code?: string }).code ?? String(outcome.error)])))];

test("2,000 completions of one small-budget tenant across 3 llm and 2 ai-capacity replicas never overspend; every refusal is OVER_BUDGET", async () => {
  // Each call reserves (prompt + 16 output tokens) at gpt-4o-mini's dearer price ($0.60/M),
  // about $0.0000168, so a budget of $0.0016 covers under a hundred of the 2,000 calls.
  const budgetUsd = 0.0016;
  const tokensPerMinute = 200_000;
  await mesh.createTenant("rush", { budget: { amountUsd: budgetUsd, period: "day" }, limits: { requestsPerMinute: 1_000_000, tokensPerMinute } });
  const requestsBefore = (await mesh.provider.stats()).requests;
  const started = Date.now();
  const outcomes = await rush("rush", CALLS);

  const answered = outcomes.filter((outcome) => outcome.ok);
  assert.deepEqual(codesOf(outcomes), ["OVER_BUDGET"], "every refused call is OVER_BUDGET");
  assert.ok(answered.length > 0 && answered.length < CALLS, `${answered.length} answered, ${CALLS - answered.length} refused`);
  // A tenant that cannot pay is refused by the llm replicas themselves once ai-capacity has said so
  // (runtime/ai/refusal-memory.ts), so its rush does not fill ai-capacity for other tenants: about
  // the calls in flight when the budget ran out ask it, then one call per replica every 500 ms
  // (261 and 308 of about 1,860 in two runs; every one of them before).
  const askedCapacity = await leaseRefusals("OVER_BUDGET");
  const refused = CALLS - answered.length;
  assert.ok(askedCapacity < refused / 2, `ai-capacity refused ${askedCapacity} leases for ${refused} refused calls`);

  await mesh.untilNothingReserved("rush");
  await untilSettled(mesh.jsm);
  // On a loaded machine a share can outlive its lease before its replica settles it: ai-capacity
  // then books its reservation, and corrects that to the billed cost when the settlement arrives
  // (the accounting rule). So the books must come to what callers were told, within a share's life.
  const told = sumOf(answered, (outcome) => outcome.costUsd);
  let status = await mesh.capacity.status({}, { tenant: "rush" });
  await untilState("the booked spend to come to what callers were told", async () => {
    status = await mesh.capacity.status({}, { tenant: "rush" });
    return status.reservedUsd === 0 && Math.abs(status.spentUsd - told) < 1e-9;
  }, 90_000).catch((error: unknown) => assert.fail(`${String(error)}: callers were told ${told}, ${status.spentUsd} was booked`));
  assert.ok(status.spentUsd <= budgetUsd, `spent ${status.spentUsd} of ${budgetUsd}`);
  assert.equal((await mesh.provider.stats()).requests - requestsBefore, answered.length, "refused calls never reached the provider");
  // The whole rush ran inside one minute's bucket: what the provider's own log billed stayed under the limit.
  const billed = mesh.provider.billedCalls().filter((call) => call.at >= started);
  assert.equal(billed.length, answered.length, "the provider billed every answered call once");
  assert.ok(sumOf(billed, (call) => call.tokens) <= tokensPerMinute);
});

test("a tenant's tokens per minute bind across 3 llm replicas: what the provider served never passes the bucket (capacity + refill)", async () => {
  // A few calls' worth a minute: shares of a quarter of it at most, most calls leased one by one.
  const tokensPerMinute = 2000;
  await mesh.createTenant("metered", { limits: { requestsPerMinute: 1_000_000, tokensPerMinute } });
  const started = Date.now();
  // Refused calls each ask ai-capacity (no share fits): fewer at once than above, so none is shed as OVERLOADED.
  const outcomes = await rush("metered", 200, 32, 1);
  const elapsedMs = Date.now() - started;
  const answered = outcomes.filter((outcome) => outcome.ok);
  assert.deepEqual(codesOf(outcomes), ["RATE_LIMITED"], "every refused call is RATE_LIMITED");
  // A full bucket holds one minute; it refills continuously meanwhile.
  const bound = tokensPerMinute + (tokensPerMinute * elapsedMs) / 60_000;
  const served = sumOf(answered, (outcome) => outcome.tokens);
  assert.ok(answered.length > 0 && served <= bound, `${answered.length} answered with ${served} tokens, bucket bound ${bound.toFixed(0)}`);
  // The same from the provider's own log, over every window of at most 60 s.
  const billed = mesh.provider.billedCalls().filter((call) => call.at >= started);
  assert.equal(sumOf(billed, (call) => call.tokens), served, "the provider billed what the callers were answered");
  const worst = worstWindow(billed, tokensPerMinute);
  assert.ok(worst.tokens <= worst.bound, `${worst.tokens} tokens billed within ${worst.spanMs} ms, the bucket admits at most ${worst.bound.toFixed(0)}`);
  await mesh.untilNothingReserved("metered");
});
