import assert from "node:assert/strict";
import { test } from "node:test";
import { MeshError } from "../errors.ts";
import { RefusalMemory } from "./refusal-memory.ts";

const call = { tenant: "acme", service: "chat", model: "m", estimatedTokens: 100 };
const refusedWith = (memory: RefusalMemory, request: typeof call, now: number): MeshError | undefined => {
  try {
    memory.check(request, now);
    return undefined;
  } catch (error) {
    return error as MeshError;
  }
};

test("an OVER_BUDGET refusal is repeated for holdMs, then ai-capacity is asked again", () => {
  const memory = new RefusalMemory(500);
  memory.observe(call, new MeshError("OVER_BUDGET", "the tenant's budget cannot cover this lease"), 1000);
  assert.equal(refusedWith(memory, call, 1499)?.code, "OVER_BUDGET");
  assert.equal(refusedWith(memory, { ...call, estimatedTokens: 99 }, 1100), undefined, "a smaller call asks");
  assert.equal(refusedWith(memory, { ...call, model: "other" }, 1100), undefined, "another model asks");
  assert.equal(refusedWith(memory, call, 1500), undefined, "after holdMs one call asks");
  assert.equal(refusedWith(memory, call, 1501)?.code, "OVER_BUDGET", "the others wait for its answer");
  assert.equal(refusedWith(memory, call, 2000), undefined, "an ask that outlives holdMs lets another call ask");
  memory.observe(call, new MeshError("OVER_BUDGET", "still no"), 2010);
  assert.equal(refusedWith(memory, call, 2011)?.code, "OVER_BUDGET", "its refusal is fresh again");
  memory.observe(call, new MeshError("OVERLOADED", "busy"), 2600);
  assert.equal(refusedWith(memory, call, 2600), undefined, "an ask that was not answered lets the next call ask");
});

test("a RATE_LIMITED refusal is repeated with what is left of its retry time, never past it", () => {
  const memory = new RefusalMemory(500);
  memory.observe(call, new MeshError("RATE_LIMITED", "rate limit reached", { retryAfterMs: 2000 }), 1000);
  const early = refusedWith(memory, call, 1200);
  assert.deepEqual([early?.code, early?.retryAfterMs], ["RATE_LIMITED", 1800]);
  assert.equal(refusedWith(memory, call, 1500), undefined, "held for holdMs at most");

  memory.observe(call, new MeshError("RATE_LIMITED", "rate limit reached", { retryAfterMs: 100 }), 2000);
  assert.equal(refusedWith(memory, call, 2099)?.retryAfterMs, 1);
  assert.equal(refusedWith(memory, call, 2100), undefined, "a bucket that refills sooner is asked when it has");
});

test("other failures are not remembered; a grant as large ends a refusal, a smaller one does not", () => {
  const memory = new RefusalMemory(500);
  memory.observe(call, new MeshError("OVERLOADED", "busy", { retryAfterMs: 50 }), 1000);
  memory.observe(call, new Error("socket closed"), 1000);
  assert.equal(refusedWith(memory, call, 1001), undefined);
  memory.observe(call, new MeshError("OVER_BUDGET", "no"), 1000);
  memory.observe({ ...call, estimatedTokens: 10 }, undefined, 1001);
  assert.equal(refusedWith(memory, call, 1002)?.code, "OVER_BUDGET");
  memory.observe({ ...call, estimatedTokens: 60 }, new MeshError("OVER_BUDGET", "no"), 1003);
  assert.equal(refusedWith(memory, { ...call, estimatedTokens: 70 }, 1004)?.code, "OVER_BUDGET", "the smallest refused size covers the most");
  memory.observe(call, undefined, 1005);
  assert.equal(refusedWith(memory, call, 1006), undefined);
});

test("bad use: a hold that is not a non-negative number of milliseconds is refused when the client is made", () => {
  for (const holdMs of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(() => new RefusalMemory(holdMs), (error) => error instanceof MeshError && error.code === "BAD_REQUEST", String(holdMs));
  }
});
