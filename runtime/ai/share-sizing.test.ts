import { test } from "node:test";
import assert from "node:assert/strict";
import { MIN_SHARE_CALLS, nextShareSize, noDemand, shouldRefresh, withCall, type Demand } from "./share-sizing.ts";

const limits = { maxTokens: 10_000, maxRequests: 200, usableMs: 5000 };
const demandOf = (since: number, calls: number, tokensEach: number): Demand =>
  Array.from({ length: calls }).reduce<Demand>((demand) => withCall(demand, tokensEach), noDemand(since));

test("a share is sized from the measured demand over its usable time, with headroom, within the limits", () => {
  const cases: Array<{ name: string; demand: Demand; now: number; callTokens: number; want: { tokens: number; requests: number } | undefined }> = [
    { name: "no demand yet: the smallest share, 4 calls of this size", demand: noDemand(0), now: 0, callTokens: 100, want: { tokens: 400, requests: MIN_SHARE_CALLS } },
    { name: "3 calls in 10 ms count as 3 per second (the window is at least 1 s)", demand: demandOf(0, 3, 100), now: 10, callTokens: 100, want: { tokens: 3000, requests: 30 } },
    { name: "10 calls over 2 s: 5 a second, 50 over a share's 5 s with headroom", demand: demandOf(0, 10, 50), now: 2000, callTokens: 50, want: { tokens: 2500, requests: 50 } },
    { name: "a flood is capped by maxTokens and maxRequests", demand: demandOf(0, 1000, 100), now: 1000, callTokens: 100, want: { tokens: 10_000, requests: 200 } },
    { name: "a call whose 4 copies exceed maxTokens gets no share", demand: noDemand(0), now: 0, callTokens: 2501, want: undefined },
  ];
  for (const { name, demand, now, callTokens, want } of cases) assert.deepEqual(nextShareSize(demand, now, callTokens, limits), want, name);
});

test("the next share is asked for once half of this one is used or half its time is gone", () => {
  const share = { grantedTokens: 1000, grantedRequests: 10, remainingTokens: 1000, remainingRequests: 10, grantedAt: 0, usableUntil: 5000 };
  const cases: Array<[string, Partial<typeof share>, number, boolean]> = [
    ["fresh", {}, 0, false],
    ["half the tokens left", { remainingTokens: 500 }, 0, false],
    ["less than half the tokens left", { remainingTokens: 499 }, 0, true],
    ["less than half the calls left", { remainingRequests: 4 }, 0, true],
    ["half its time gone", {}, 2501, true],
  ];
  for (const [name, change, now, want] of cases) assert.equal(shouldRefresh({ ...share, ...change }, now), want, name);
});
