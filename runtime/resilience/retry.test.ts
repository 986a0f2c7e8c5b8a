import assert from "node:assert/strict";
import { test } from "node:test";
import { ERROR_CODES, RETRYABLE_CODES, TERMINAL_CODES, UNKNOWN_OUTCOME_CODES } from "../../protocol/errors.ts";
import { MeshError } from "../errors.ts";
import { jitter, retryDelayMs, retryWithin } from "./retry.ts";

test("every error code is in exactly one class: terminal, retryable or unknown outcome", () => {
  for (const code of ERROR_CODES) {
    const classes = [TERMINAL_CODES, RETRYABLE_CODES, UNKNOWN_OUTCOME_CODES].filter((set) => set.has(code));
    assert.equal(classes.length, 1, code);
    assert.equal(new MeshError(code, "x").terminal, TERMINAL_CODES.has(code));
    assert.equal(new MeshError(code, "x").retryable, RETRYABLE_CODES.has(code));
  }
});

test("the one jitter draws from [ms/2, ms)", () => {
  for (const ms of [1, 50, 1000, 15_000]) {
    for (let i = 0; i < 200; i++) {
      const value = jitter(ms);
      assert.ok(value >= Math.floor(ms / 2) && value <= ms, `${value} for ${ms}`);
    }
  }
  assert.equal(jitter(0), 0);
});

const delays: Array<{ name: string; attempt: number; error?: unknown; backoff?: { initialDelayMs: number; maxDelayMs: number }; low: number; high: number }> = [
  { name: "first wait is the initial delay", attempt: 1, backoff: { initialDelayMs: 100, maxDelayMs: 10_000 }, low: 50, high: 100 },
  { name: "waits double", attempt: 3, backoff: { initialDelayMs: 100, maxDelayMs: 10_000 }, low: 200, high: 400 },
  { name: "waits stop at the maximum", attempt: 20, backoff: { initialDelayMs: 100, maxDelayMs: 1000 }, low: 500, high: 1000 },
  { name: "a retryAfterMs hint wins over the backoff", attempt: 1, error: new MeshError("RATE_LIMITED", "x", { retryAfterMs: 4000 }), low: 2000, high: 4000 },
  { name: "a zero hint means at once", attempt: 5, error: new MeshError("UNAVAILABLE", "x", { retryAfterMs: 0 }), low: 0, high: 0 },
  { name: "a short hint repeated grows with the backoff", attempt: 4, error: new MeshError("OVERLOADED", "x", { retryAfterMs: 50 }), backoff: { initialDelayMs: 50, maxDelayMs: 2000 }, low: 200, high: 400 },
  { name: "a repeated hint stops growing at the maximum", attempt: 30, error: new MeshError("OVERLOADED", "x", { retryAfterMs: 50 }), backoff: { initialDelayMs: 50, maxDelayMs: 2000 }, low: 1000, high: 2000 },
];
for (const { name, attempt, error, backoff, low, high } of delays) {
  test(`retryDelayMs: ${name}`, () => {
    for (let i = 0; i < 100; i++) {
      const value = retryDelayMs(attempt, error, backoff);
      assert.ok(value >= low && value <= high, `${value} not in [${low}, ${high}]`);
    }
  });
}

function failingTimes(failures: readonly unknown[]): { attempt: () => Promise<string>; readonly calls: number } {
  let calls = 0;
  return {
    attempt: async () => {
      const failure = failures[calls++];
      if (failure !== undefined) throw failure;
      return "done";
    },
    get calls() {
      return calls;
    },
  };
}

const quick = { initialDelayMs: 1, maxDelayMs: 2 };

test("retryable failures are tried again until one succeeds", async () => {
  const run = failingTimes([new MeshError("OVERLOADED", "busy"), new MeshError("UNAVAILABLE", "down")]);
  assert.equal(await retryWithin(run.attempt, { maxAttempts: 5, ...quick }), "done");
  assert.equal(run.calls, 3);
});

test("a terminal failure is thrown at once", async () => {
  const run = failingTimes([new MeshError("NOT_FOUND", "gone")]);
  await assert.rejects(retryWithin(run.attempt, { maxAttempts: 5, ...quick }), { code: "NOT_FOUND" });
  assert.equal(run.calls, 1);
});

test("attempts stop at maxAttempts with the last error", async () => {
  const run = failingTimes([new MeshError("UNAVAILABLE", "1"), new MeshError("UNAVAILABLE", "2"), new MeshError("UNAVAILABLE", "3")]);
  await assert.rejects(retryWithin(run.attempt, { maxAttempts: 2, ...quick }), { message: "2" });
  assert.equal(run.calls, 2);
});

test("a wait that would outlive the deadline is not started: the last error comes back", async () => {
  const run = failingTimes([new MeshError("RATE_LIMITED", "later", { retryAfterMs: 60_000 })]);
  await assert.rejects(retryWithin(run.attempt, { maxAttempts: 5, deadline: Date.now() + 10_000 }), { code: "RATE_LIMITED" });
  assert.equal(run.calls, 1);
});

test("an abort during the wait ends it with TIMEOUT", async () => {
  const controller = new AbortController();
  const run = failingTimes([new MeshError("UNAVAILABLE", "down", { retryAfterMs: 60_000 })]);
  const retried = retryWithin(run.attempt, { maxAttempts: 5, signal: controller.signal });
  controller.abort();
  await assert.rejects(retried, { code: "TIMEOUT" });
  assert.equal(run.calls, 1);
});

test("retryOn chooses what is retried", async () => {
  const run = failingTimes([new MeshError("INTERNAL", "odd"), new Error("plain")]);
  await assert.rejects(retryWithin(run.attempt, { maxAttempts: 5, retryOn: (error) => error instanceof MeshError, ...quick }), { message: "plain" });
  assert.equal(run.calls, 2);
});
