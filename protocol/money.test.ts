import assert from "node:assert/strict";
import { test } from "node:test";
import { callCostUsd, costNanoUsd, nanoUsd, reservationNanoUsd, tokenPrice, usdFromNano } from "./money.ts";

test("a per-million price becomes whole nano-dollars per token", () => {
  assert.deepEqual(tokenPrice({ inputPerMillion: 0.15, outputPerMillion: 0.6 }), { inputNanoUsd: 150, outputNanoUsd: 600 });
  assert.deepEqual(tokenPrice({ inputPerMillion: 2.5, outputPerMillion: 10 }), { inputNanoUsd: 2500, outputNanoUsd: 10_000 });
});

test("many small costs add up exactly in nano-dollars, where dollars in floats drift", () => {
  const price = tokenPrice({ inputPerMillion: 0.1, outputPerMillion: 0.3 });
  let nano = 0;
  let floatUsd = 0;
  for (let i = 0; i < 10_000; i++) {
    nano += costNanoUsd(price, { promptTokens: 7, completionTokens: 3 });
    floatUsd += 0.1 * 7 / 1e6 + 0.3 * 3 / 1e6;
  }
  assert.equal(nano, 10_000 * (7 * 100 + 3 * 300));
  assert.equal(usdFromNano(nano), 0.016);
  assert.notEqual(floatUsd, 0.016);
});

const cases: Array<{ name: string; price: { inputPerMillion: number; outputPerMillion: number }; usage: { promptTokens: number; completionTokens: number }; usd: number }> = [
  { name: "no tokens cost nothing", price: { inputPerMillion: 2.5, outputPerMillion: 10 }, usage: { promptTokens: 0, completionTokens: 0 }, usd: 0 },
  { name: "a million prompt tokens cost the input price", price: { inputPerMillion: 2.5, outputPerMillion: 10 }, usage: { promptTokens: 1e6, completionTokens: 0 }, usd: 2.5 },
  { name: "prompt and completion priced apart", price: { inputPerMillion: 0.15, outputPerMillion: 0.6 }, usage: { promptTokens: 1000, completionTokens: 500 }, usd: 0.00045 },
  { name: "a price finer than $0.001 per million rounds to it", price: { inputPerMillion: 0.0004, outputPerMillion: 0 }, usage: { promptTokens: 1e6, completionTokens: 0 }, usd: 0 },
];
for (const { name, price, usage, usd } of cases) {
  test(`callCostUsd: ${name}`, () => assert.equal(callCostUsd(price, usage), usd));
}

test("a reservation prices every estimated token at the dearer rate", () => {
  assert.equal(reservationNanoUsd({ inputNanoUsd: 150, outputNanoUsd: 600 }, 1000), 600_000);
});

test("dollars round to the nearest nano-dollar", () => {
  assert.equal(nanoUsd(0.0000000014), 1);
  assert.equal(nanoUsd(12.345678901), 12_345_678_901);
});
