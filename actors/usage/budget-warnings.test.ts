import assert from "node:assert/strict";
import { after, test } from "node:test";
import { BudgetWarning } from "../../protocol/usage.ts";
import type { WorkContext } from "../../runtime/index.ts";
import { createActorStore, createMongoClient } from "../../runtime/store/index.ts";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { startActorForTest, untilUsageConsumed } from "../llm/test-support.ts";
import { createUsageActor } from "./actor.ts";
import { budgetPeriod } from "./days.ts";
import { periodSpendNanoUsd } from "./period-spend.ts";
import { startUsageHarness, usageEvent } from "./test-support.ts";
import { USAGE_RECORDS } from "./usage-records.ts";

const servers = await useTestServers();
// Checkpoints advance on every check here, so the warnings also exercise them.
const definition = createUsageActor({ checkpointEveryMs: 0, checkpointSafetyMs: 1000 });
await startActorForTest(definition, servers);
await startActorForTest(createUsageActor({ checkpointEveryMs: 0, checkpointSafetyMs: 1000 }), servers);
const harness = await startUsageHarness(servers);
const mongo = createMongoClient(servers.mongoUrl);
after(() => mongo.close());
const store = createActorStore({ client: mongo, actor: "usage", prefix: servers.databasePrefix, collections: definition.collections });

async function storedWarnings(): Promise<BudgetWarning[]> {
  const { state } = await harness.jsm.streams.info("EVENTS_USAGE");
  const warnings: BudgetWarning[] = [];
  for (let seq = state.first_seq; state.messages > 0 && seq <= state.last_seq; seq++) {
    const message = await harness.jsm.streams.getMessage("EVENTS_USAGE", { seq });
    if (message) warnings.push(BudgetWarning.parse(message.json()));
  }
  return warnings;
}

test("budget warnings at 80% and 100% are emitted once each per tenant and period", async () => {
  await harness.createTenant("spender", { amountUsd: 1, period: "month" });
  await harness.createTenant("daily", { amountUsd: 0.5, period: "day" });
  for (const costUsd of [0.5, 0.2, 0.15, 0.1, 0.1, 0.3, 0.2, 0, 0.05]) await harness.publish(usageEvent({ tenant: "spender", costUsd }));
  for (const costUsd of [0.3, 0.15]) await harness.publish(usageEvent({ tenant: "daily", costUsd }));
  await untilUsageConsumed(harness.jsm);

  const warnings = await storedWarnings();
  const month = budgetPeriod(new Date(), "month");
  const spender = warnings.filter((warning) => warning.tenant === "spender").sort((a, b) => a.threshold - b.threshold);
  assert.deepEqual(spender.map((warning) => [warning.threshold, warning.period, warning.budgetUsd]), [[80, month, 1], [100, month, 1]]);
  assert.ok(spender[0]!.spentUsd >= 0.8 && spender[1]!.spentUsd >= 1);
  const daily = warnings.filter((warning) => warning.tenant === "daily");
  assert.deepEqual(daily.map((warning) => [warning.threshold, warning.period]), [[80, budgetPeriod(new Date(), "day")]], "90% of a daily budget: only the 80% warning");

  for (const costUsd of [0.4, 0.4]) await harness.publish(usageEvent({ tenant: "spender", costUsd }));
  await untilUsageConsumed(harness.jsm);
  assert.equal((await storedWarnings()).length, 3, "nothing more once both thresholds were passed");
});

test("a period's spend is its latest checkpoint plus the records applied since, other periods and tenants apart", async () => {
  const context = { tenant: "ledger", store } as unknown as WorkContext;
  const records = store.collection(USAGE_RECORDS);
  const now = Date.now();
  const today = new Date(now).toISOString().slice(0, 10);
  const record = (id: string, costNanoUsd: number, appliedAgoMs: number, day = today) => records.insertOne("ledger", {
    _id: `ledger/${id}`, eventId: id, day, service: "s", model: "m", requests: 1, promptTokens: 0, completionTokens: 0,
    costNanoUsd, cacheHits: 0, errors: 0, rejected: 0, appliedAt: new Date(now - appliedAgoMs), expiresAt: new Date(now + 86_400_000),
  });
  await record("old-1", 100, 600_000);
  await record("old-2", 20, 300_000);
  await record("new-1", 3, 0);
  await record("last-year", 5000, 0, "2000-01-01");
  await records.insertOne("someone-else", { _id: "someone-else/x", eventId: "x", day: today, costNanoUsd: 7000, appliedAt: new Date(), expiresAt: new Date(now + 86_400_000) });
  const period = today.slice(0, 7);
  const rules = { everyMs: 0, safetyMs: 60_000 };
  assert.equal(await periodSpendNanoUsd(context, period, rules), 123);
  const checkpoints = await store.collection("spend_checkpoints").find("ledger", { period });
  assert.equal(checkpoints.length, 1);
  assert.equal(checkpoints[0]!.costNanoUsd, 120, "the checkpoint folds only records older than the safety margin");
  await record("new-2", 4, 0);
  assert.equal(await periodSpendNanoUsd(context, period, { everyMs: 3_600_000, safetyMs: 60_000 }), 127);
  assert.equal(await periodSpendNanoUsd(context, today, rules), 127, "a daily period");
});
