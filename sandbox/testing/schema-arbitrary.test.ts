import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { z } from "zod";
import type { RequestContract } from "../../protocol/contract.ts";
import { aiCapacityContract, llmContract, tenantsContract, usageContract } from "../../protocol/index.ts";
import { mutated } from "./input-mutations.ts";
import { schemaArbitrary } from "./schema-arbitrary.ts";

const requests = [tenantsContract, aiCapacityContract, llmContract, usageContract].flatMap((contract) => Object.values(contract.requests) as RequestContract[]);

test("every contract's generated inputs pass its schema, but for refinements JSON Schema cannot carry", () => {
  for (const contract of requests) {
    for (const input of fc.sample(schemaArbitrary(contract.input), { numRuns: 300, seed: 7 })) {
      const parsed = contract.input.safeParse(input);
      if (parsed.success) continue;
      const issues = parsed.error.issues.filter((issue) => issue.code !== "custom");
      assert.deepEqual(issues, [], `${contract.subject}: ${JSON.stringify(input).slice(0, 300)}`);
    }
  }
});

test("numbers at their bounds, strings at their limits and huge strings past the payload limit are among them", () => {
  const put = fc.sample(schemaArbitrary(tenantsContract.requests.put.input), { numRuns: 500, seed: 1 }) as Array<z.input<typeof tenantsContract.requests.put.input>>;
  assert.ok(put.some((input) => input.policy.limits.requestsPerMinute === 1_000_000));
  assert.ok(put.some((input) => input.policy.displayName.length === 100));
  const complete = fc.sample(schemaArbitrary(llmContract.requests.complete.input, { hugeStringLength: 50_000 }), { numRuns: 500, seed: 1 }) as Array<{ messages: Array<{ content: string }> }>;
  assert.ok(complete.some((input) => input.messages.some((message) => message.content.length === 50_000)));
  assert.ok(complete.every((input) => input.messages.every((message) => message.content.length <= 50_000)));
});

test("free-form objects get keys a database or JavaScript treats specially, and stay valid", () => {
  const schema = z.strictObject({ parameters: z.record(z.string(), z.unknown()) });
  const inputs = fc.sample(schemaArbitrary(schema), { numRuns: 300, seed: 3 }) as Array<{ parameters: object }>;
  const keys = new Set(inputs.flatMap((input) => Object.keys(input.parameters)));
  for (const special of ["$where", "a.b", "__proto__"]) assert.ok(keys.has(special), special);
  assert.ok(inputs.every((input) => schema.safeParse(JSON.parse(JSON.stringify(input))).success));
});

test("hints are mixed in for properties of their name", () => {
  const inputs = fc.sample(schemaArbitrary(llmContract.requests.complete.input, { hints: { model: fc.constant("gpt-4o-mini") } }), { numRuns: 200, seed: 5 }) as Array<{ model: string }>;
  const hinted = inputs.filter((input) => input.model === "gpt-4o-mini").length;
  assert.ok(hinted > 50 && hinted < 150, `${hinted} of 200`);
});

test("a schema JSON Schema cannot express is refused, not fuzzed with the wrong shape", () => {
  assert.throws(() => schemaArbitrary(z.object({ when: z.date() })));
});

test("a mutation edits the input once: most edited inputs fail the schema", () => {
  const contract = tenantsContract.requests.put;
  const edited = fc.sample(mutated(schemaArbitrary(contract.input)), { numRuns: 300, seed: 11 });
  const failing = edited.filter((input) => !contract.input.safeParse(input).success).length;
  assert.ok(failing > 200, `${failing} of 300 fail`);
});
