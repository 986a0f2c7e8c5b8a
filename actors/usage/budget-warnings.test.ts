import assert from "node:assert/strict";
import { after, test } from "node:test";
import { BudgetWarning } from "../../protocol/usage.ts";
import { createActorStore, createMongoClient } from "../../runtime/store/index.ts";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { startActorForTest, untilUsageConsumed } from "../llm/test-support.ts";
import { createUsageActor } from "./actor.ts";
import { budgetPeriod } from "./days.ts";
import { createDayLedger } from "./day-ledger.ts";
import { createPeriodSpend } from "./period-spend.ts";
import { startUsageHarness, usageEvent } from "./test-support.ts";
import { emptyCounters } from "./usage-cells.ts";

const servers = await useTestServers();
const definition = createUsageActor();
await startActorForTest(definition, servers);
await startActorForTest(createUsageActor(), servers);
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

test("a period's spend sums its days' ledgers, other periods and tenants apart; finished days are reused briefly", async () => {
  const ledger = createDayLedger(store);
  let now = Date.parse("2026-03-15T12:00:00.000Z");
  const spend = createPeriodSpend({ closedDayMs: 60_000, now: () => now });
  const expiresAt = new Date(Date.now() + 86_400_000);
  const commit = (tenant: string, day: string, costNanoUsd: number) =>
    ledger.commit(tenant, day, `${tenant}-${day}-${costNanoUsd}`, [{ service: "s", model: "m", ...emptyCounters(), requests: 1, costNanoUsd }], expiresAt);
  await commit("ledger", "2026-03-01", 100);
  await commit("ledger", "2026-03-14", 20);
  await commit("ledger", "2026-03-15", 3);
  await commit("ledger", "2026-02-28", 5000);
  await commit("ledger-b", "2026-03-15", 7000);
  assert.equal(await spend.spentNanoUsd(ledger, "ledger", "2026-03"), 123);
  assert.equal(await spend.spentNanoUsd(ledger, "ledger", "2026-03-15"), 3, "a daily period");
  assert.equal(await spend.spentNanoUsd(ledger, "ledger-b", "2026-03"), 7000);
  await commit("ledger", "2026-03-15", 4);
  await commit("ledger", "2026-03-14", 1);
  assert.equal(await spend.spentNanoUsd(ledger, "ledger", "2026-03"), 127, "today is read afresh, yesterday's total reused");
  now += 60_001;
  assert.equal(await spend.spentNanoUsd(ledger, "ledger", "2026-03"), 128, "and read again once its reuse ran out");
  const burst = await Promise.all(Array.from({ length: 20 }, () => spend.spentNanoUsd(ledger, "ledger", "2026-03")));
  assert.deepEqual(new Set(burst), new Set([128]));
});
