/**
 * The domain as pure functions with an explicit clock, table-driven: bucket math and provider
 * health (lease operations are in lease-ops.test.ts). No servers: the end-to-end tests cover
 * the wiring.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { fitsCapacity, fullBucket, holds, refilled, refillWaitMs, scaled, type BucketLevel } from "./bucket-math.ts";
import { applySignal, HEALTHY, MIN_FACTOR, type HealthState } from "./provider-health.ts";

const CAPACITY = { tokensPerMinute: 6000, requestsPerMinute: 60 };
const T0 = Date.UTC(2026, 10, 30, 12);

test("bucket refill: credited for the time elapsed, capped at a minute's capacity, never backwards", () => {
  const empty: BucketLevel = { tokens: 0, requests: 0, updatedAt: T0 };
  const cases: Array<[string, BucketLevel, number, BucketLevel]> = [
    ["no time, no refill", empty, T0, empty],
    ["one second refills a sixtieth", empty, T0 + 1000, { tokens: 100, requests: 1, updatedAt: T0 + 1000 }],
    ["a minute fills it", empty, T0 + 60_000, { tokens: 6000, requests: 60, updatedAt: T0 + 60_000 }],
    ["longer is still full", empty, T0 + 600_000, { tokens: 6000, requests: 60, updatedAt: T0 + 600_000 }],
    ["a clock behind the record refills nothing and keeps the later time", { tokens: 10, requests: 1, updatedAt: T0 }, T0 - 5000, { tokens: 10, requests: 1, updatedAt: T0 }],
    ["a shrunk capacity clamps an over-full level", { tokens: 9000, requests: 90, updatedAt: T0 }, T0, { tokens: 6000, requests: 60, updatedAt: T0 }],
  ];
  for (const [name, level, now, want] of cases) assert.deepEqual(refilled(level, CAPACITY, now), want, name);
  assert.deepEqual(fullBucket(CAPACITY, T0), { tokens: 6000, requests: 60, updatedAt: T0 });
});

test("bucket checks: holds, fits a capacity at all, and how long until it holds", () => {
  const level = { tokens: 500, requests: 2 };
  const cases: Array<[string, { tokens: number; requests: number }, boolean, number]> = [
    ["within the level", { tokens: 500, requests: 2 }, true, 0],
    ["100 tokens short: a second at 6000 a minute", { tokens: 600, requests: 1 }, false, 1000],
    ["one request short: a second at 60 a minute", { tokens: 1, requests: 3 }, false, 1000],
    ["both short: the longer wait", { tokens: 1100, requests: 3 }, false, 6000],
  ];
  for (const [name, amount, want, waitMs] of cases) {
    assert.equal(holds(level, amount), want, name);
    assert.equal(refillWaitMs(level, CAPACITY, amount), waitMs, name);
  }
  assert.equal(fitsCapacity(CAPACITY, { tokens: 6000, requests: 60 }), true);
  assert.equal(fitsCapacity(CAPACITY, { tokens: 6001, requests: 1 }), false);
  assert.deepEqual(scaled(CAPACITY, 0.25), { tokensPerMinute: 1500, requestsPerMinute: 15 });
});

test("provider health: 429s and timeouts halve the factor once per window, ok signals recover it step by step, errors change nothing", () => {
  const rules = { healthDecreaseWindowMs: 1000, healthRecoveryWindowMs: 1000, slowLatencyMs: 20_000 };
  type Step = [string, Parameters<typeof applySignal>[0], number, Partial<HealthState>];
  const steps: Step[] = [
    ["a 429 halves and starts a cool-down", { model: "m", outcome: "rate_limited", latencyMs: 5, retryAfterMs: 2000 }, T0, { factor: 0.5, coolDownUntil: T0 + 2000, lastDecreaseAt: T0 }],
    ["a second 429 in the same window counts once", { model: "m", outcome: "rate_limited", latencyMs: 5 }, T0 + 500, { factor: 0.5 }],
    ["a timeout after the window halves again", { model: "m", outcome: "timeout", latencyMs: 5 }, T0 + 1000, { factor: 0.25, lastDecreaseAt: T0 + 1000 }],
    ["an error says nothing about capacity", { model: "m", outcome: "error", latencyMs: 5 }, T0 + 5000, { factor: 0.25 }],
    ["an ok too soon after a change waits", { model: "m", outcome: "ok", latencyMs: 5 }, T0 + 1500, { factor: 0.25 }],
    ["an ok after the recovery window adds 0.1", { model: "m", outcome: "ok", latencyMs: 5 }, T0 + 2000, { factor: 0.35, lastChangeAt: T0 + 2000 }],
    ["a slow ok does not count", { model: "m", outcome: "ok", latencyMs: 30_000 }, T0 + 4000, { factor: 0.35 }],
  ];
  let state: HealthState = { ...HEALTHY };
  for (const [name, signal, now, want] of steps) {
    state = applySignal(signal, rules)({ ...state }, now);
    for (const [field, value] of Object.entries(want)) assert.equal(state[field as keyof HealthState], value, `${name}: ${field}`);
  }
  let floor: HealthState = { ...HEALTHY };
  for (let i = 0; i < 10; i++) floor = applySignal({ model: "m", outcome: "timeout", latencyMs: 1 }, rules)({ ...floor }, T0 + i * 1000);
  assert.equal(floor.factor, MIN_FACTOR, "never below the floor");
});
