import assert from "node:assert/strict";
import { test } from "node:test";
import pLimit from "p-limit";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { ask, startLlmMesh, untilSettled } from "./test-support.ts";

const CALLS = 300;
const servers = await useTestServers();
const mesh = await startLlmMesh(servers, { llmReplicas: 2, capacityReplicas: 3 });

test("300 concurrent completions of one tenant never overspend its budget; every refused call gets OVER_BUDGET", async () => {
  // Each lease reserves (prompt + 16 output tokens) at gpt-4o-mini's dearer price ($0.60/M),
  // about $0.0000156, so a budget of $0.0016 covers roughly a third of the calls.
  const budgetUsd = 0.0016;
  await mesh.createTenant("rush", { budget: { amountUsd: budgetUsd, period: "day" } });
  const limit = pLimit(100);
  const outcomes = await Promise.all(Array.from({ length: CALLS }, (_, i) => limit(() =>
    mesh.llm.complete(ask(`request number ${i}`, { maxTokens: 16 }), { tenant: "rush", timeoutMs: 60_000 })
      .then((result) => ({ ok: true as const, costUsd: result.costUsd }), (error: unknown) => ({ ok: false as const, error })))));

  const answered = outcomes.filter((outcome) => outcome.ok);
  const refused = outcomes.flatMap((outcome) => (outcome.ok ? [] : [outcome.error]));
  const codes = refused.map((error) => (error as { code?: string }).code ?? String(error));
  assert.deepEqual([...new Set(codes)], ["OVER_BUDGET"], "every refused call is OVER_BUDGET");
  assert.ok(answered.length > 0 && refused.length > 0, `${answered.length} answered, ${refused.length} refused`);

  await untilSettled(mesh.jsm);
  const status = await mesh.capacity.status({}, { tenant: "rush" });
  assert.ok(status.spentUsd <= budgetUsd, `spent ${status.spentUsd} of ${budgetUsd}`);
  assert.equal(status.reservedUsd, 0, "nothing is left reserved");
  const told = answered.reduce((total, outcome) => total + outcome.costUsd, 0);
  assert.ok(Math.abs(status.spentUsd - told) < 1e-9, `callers were told ${told}, ${status.spentUsd} was booked`);
  assert.equal((await mesh.provider.stats()).requests, answered.length, "refused calls never reached the provider");
});
