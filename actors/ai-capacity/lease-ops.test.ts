import assert from "node:assert/strict";
import { test } from "node:test";
import { isMeshError } from "../../runtime/index.ts";
import { planBuckets } from "./bucket-plan.ts";
import { budgetOf, emptyCapacityState, levelOf, type CapacityState, type OpenLease } from "./capacity-state.ts";
import { parseAiCapacityConfig } from "./config.ts";
import { expireDue, grant, release, settle } from "./lease-ops.ts";
import { basePolicy } from "./test-support.ts";

// Every operation runs at the same instant: no refill, so bucket levels are exact.
const NOW = Date.UTC(2026, 10, 29, 12);
const RETENTION = { finishedMs: 600_000, finishedCount: 200 };
const CAPACITY = { tokensPerMinute: 1200, requestsPerMinute: 100 };
const POLICY = { ...basePolicy, limits: CAPACITY, tenantId: "pure", version: 1, updatedAt: new Date(NOW).toISOString() };
// 1 000 gpt-4o tokens: $2.50 / $10 per million = 2 500 / 10 000 nano-dollars a token; reserved at the dearer.
const LEASE: OpenLease = {
  id: "lease-1", service: "chat", model: "gpt-4o", period: "2026-11-29", tokens: 1000, requests: 1,
  reservedNanoUsd: 10_000_000, inputNanoUsd: 2500, outputNanoUsd: 10_000, createdAt: NOW, expiresAt: NOW, owner: "service:billing",
};
const OWNER = "service:billing";
const STRANGER = "mesh";
const USED = { promptTokens: 100, completionTokens: 100, requests: 1 }; // costs 1 250 000 nano-dollars

type Step = "settle" | "settle-other" | "settle-zero" | "release" | "expire" | "settle-stranger" | "release-stranger";

function granted(): CapacityState {
  const state = emptyCapacityState();
  const plan = planBuckets(LEASE, POLICY, parseAiCapacityConfig(), 1);
  grant({ lease: LEASE, plan, budgetLimitNanoUsd: 100_000_000, maxOpenLeases: 10, retention: RETENTION })(state, NOW);
  return state;
}

function apply(state: CapacityState, step: Step): unknown {
  try {
    switch (step) {
      case "settle": return settle(LEASE.id, USED, RETENTION, OWNER)(state, NOW);
      case "settle-other": return settle(LEASE.id, { promptTokens: 900, completionTokens: 900, requests: 1 }, RETENTION, OWNER)(state, NOW);
      case "settle-zero": return settle(LEASE.id, { promptTokens: 0, completionTokens: 0, requests: 0 }, RETENTION, OWNER)(state, NOW);
      case "release": return release(LEASE.id, RETENTION, OWNER)(state, NOW);
      case "settle-stranger": return settle(LEASE.id, { promptTokens: 0, completionTokens: 0, requests: 0 }, RETENTION, STRANGER)(state, NOW);
      case "release-stranger": return release(LEASE.id, RETENTION, STRANGER)(state, NOW);
      case "expire": return expireDue(RETENTION)(state, NOW);
    }
  } catch (error) {
    return isMeshError(error) ? error.code : error;
  }
}

const cases: { steps: Step[]; spent: number; tokens: number; requests: number; last?: unknown; why: string }[] = [
  { steps: ["settle"], spent: 1_250_000, tokens: 1000, requests: 99, why: "settled in time: the cost, the unused grant back" },
  { steps: ["settle-zero"], spent: 0, tokens: 1200, requests: 100, why: "a failed call settles with zero: everything back" },
  { steps: ["release"], spent: 0, tokens: 1200, requests: 100, last: true, why: "released: everything back" },
  { steps: ["expire"], spent: 10_000_000, tokens: 200, requests: 99, last: ["lease-1"], why: "outcome unknown: the reservation charged, the grant kept" },
  { steps: ["expire", "settle"], spent: 1_250_000, tokens: 1000, requests: 99, why: "a late settlement corrects to the cost: as if settled in time" },
  { steps: ["expire", "release"], spent: 0, tokens: 1200, requests: 100, last: true, why: "a late release takes the charge back" },
  { steps: ["expire", "settle-zero"], spent: 0, tokens: 1200, requests: 100, why: "a late zero settlement too" },
  { steps: ["expire", "settle", "settle-other"], spent: 1_250_000, tokens: 1000, requests: 99, why: "a repeat, even with other usage, changes nothing" },
  { steps: ["expire", "settle", "release"], spent: 1_250_000, tokens: 1000, requests: 99, last: false, why: "a release after the correction changes nothing" },
  { steps: ["expire", "release", "settle"], spent: 0, tokens: 1200, requests: 100, last: "CONFLICT", why: "a released lease cannot be settled" },
  { steps: ["expire", "expire"], spent: 10_000_000, tokens: 200, requests: 99, last: [], why: "expiry happens once" },
  { steps: ["settle", "expire"], spent: 1_250_000, tokens: 1000, requests: 99, last: [], why: "a settled lease never expires" },
  { steps: ["settle", "settle"], spent: 1_250_000, tokens: 1000, requests: 99, why: "a repeat settlement answers the first" },
  { steps: ["release", "settle"], spent: 0, tokens: 1200, requests: 100, last: "CONFLICT", why: "settling a released lease" },
  { steps: ["settle-stranger", "settle"], spent: 1_250_000, tokens: 1000, requests: 99, why: "another caller cannot settle it (0 tokens); its owner's settlement is what is charged" },
  { steps: ["release-stranger", "settle"], spent: 1_250_000, tokens: 1000, requests: 99, why: "another caller cannot release it; its owner still settles" },
  { steps: ["expire", "settle-stranger"], spent: 10_000_000, tokens: 200, requests: 99, last: "FORBIDDEN", why: "nor correct it once expired" },
  { steps: ["settle", "settle-stranger"], spent: 1_250_000, tokens: 1000, requests: 99, last: "FORBIDDEN", why: "nor read its settlement" },
];

for (const { steps, spent, tokens, requests, last, why } of cases) {
  test(`${steps.join(" → ")}: ${why}`, () => {
    const state = granted();
    let result: unknown;
    for (const step of steps) result = apply(state, step);
    const budget = budgetOf(state, LEASE.period);
    assert.equal(budget.spentNanoUsd, spent, "spent");
    assert.equal(budget.reservedNanoUsd, 0, "nothing stays reserved");
    const level = levelOf(state, "tenant", CAPACITY, NOW);
    assert.deepEqual({ tokens: level.tokens, requests: level.requests }, { tokens, requests }, "the tenant bucket");
    if (last !== undefined) assert.deepEqual(result, last);
  });
}

test("a repeated settlement reports alreadySettled with the first settlement; the correction of an expired lease says so", () => {
  const state = granted();
  apply(state, "expire");
  assert.deepEqual(apply(state, "settle"), { settlement: { from: "expired", costNanoUsd: 1_250_000, returnedTokens: 800 }, alreadySettled: false });
  assert.deepEqual(apply(state, "settle-other"), { settlement: { from: "expired", costNanoUsd: 1_250_000, returnedTokens: 800 }, alreadySettled: true });
  assert.throws(() => settle("unknown", USED, RETENTION, OWNER)(state, NOW), (error) => isMeshError(error) && error.code === "NOT_FOUND");
});
