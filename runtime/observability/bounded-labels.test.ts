import assert from "node:assert/strict";
import { test } from "node:test";
import { BoundedLabels, OTHER_LABEL } from "./bounded-labels.ts";

test("the first values keep their names; past the bound, new values share one 'other' series", () => {
  const models = new BoundedLabels(2);
  assert.deepEqual(["gpt-4o", "gpt-4o-mini", "gpt-4o", "made-up-1", "made-up-2", "gpt-4o-mini"].map((m) => models.value(m)),
    ["gpt-4o", "gpt-4o-mini", "gpt-4o", OTHER_LABEL, OTHER_LABEL, "gpt-4o-mini"]);
});

test("a bound must be a positive integer", () => {
  for (const bad of [0, -1, 1.5, Number.NaN]) assert.throws(() => new BoundedLabels(bad), RangeError);
});
