import assert from "node:assert/strict";
import { after, test } from "node:test";
import { jetstream } from "@nats-io/jetstream";
import { headers as natsHeaders } from "@nats-io/nats-core";
import type { UsageEvent } from "../../protocol/llm.ts";
import { createActorStore, createMongoClient } from "../../runtime/store/index.ts";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { startActorForTest, storedUsageEvents, sumOf, untilUsageConsumed } from "../llm/test-support.ts";
import { createUsageActor } from "./actor.ts";
import { utcDay } from "./days.ts";
import { startUsageHarness, usageEvent } from "./test-support.ts";
import { countersOf } from "./usage-cells.ts";
import { createUsageLedger } from "./usage-ledger.ts";
import { keys, USAGE_EVENTS } from "./usage-records.ts";

const servers = await useTestServers();
const definition = createUsageActor({ ackWaitMs: 2000 });
// Two replicas share the durable consumer, as in production.
await startActorForTest(definition, servers);
await startActorForTest(createUsageActor({ ackWaitMs: 2000 }), servers);
const harness = await startUsageHarness(servers);
const mongo = createMongoClient(servers.mongoUrl);
after(() => mongo.close());
const replicaStore = () => createActorStore({ client: mongo, actor: "usage", prefix: servers.databasePrefix, collections: definition.collections });
const store = replicaStore();
const LEDGER_OPTIONS = { maxBatch: 1000, rollupRetentionDays: 400 };

const today = utcDay(new Date());
const yesterday = utcDay(new Date(Date.now() - 86_400_000));

test("aggregates per service, model and UTC day equal the sum of the events", async () => {
  await harness.createTenant("acme");
  const shapes = [
    { service: "checkout", model: "gpt-4o-mini", at: new Date().toISOString() },
    { service: "search", model: "gpt-4o", at: new Date().toISOString(), costUsd: 0.0025 },
    { service: "search", model: "gpt-4o-mini", at: `${yesterday}T23:59:59.000Z`, cacheHit: true, costUsd: 0, promptTokens: 0, completionTokens: 0 },
    { service: "checkout", model: "gpt-4o", at: `${yesterday}T00:00:00.000Z`, outcome: "rejected" as const, costUsd: 0, promptTokens: 0, completionTokens: 0 },
    { service: "checkout", model: "gpt-4o-mini", at: new Date().toISOString(), outcome: "error" as const, costUsd: 0, promptTokens: 0, completionTokens: 0 },
  ];
  for (let i = 0; i < 20; i++) await harness.publish(usageEvent({ tenant: "acme", promptTokens: 10 + i, ...shapes[i % shapes.length] }));
  await harness.publish(usageEvent({ tenant: "other", costUsd: 5 }));
  await untilUsageConsumed(harness.jsm);

  const events = await storedUsageEvents(harness.jsm, "acme");
  const report = await harness.usage.report({ from: yesterday, to: today, groupBy: "model" }, { tenant: "acme" });
  assert.deepEqual([report.tenant, report.from, report.to], ["acme", yesterday, today]);
  assert.deepEqual({ ...report.total, costUsd: Math.round(report.total.costUsd * 1e9) }, {
    key: "total",
    requests: 20,
    promptTokens: sumOf(events, (e) => e.promptTokens),
    completionTokens: sumOf(events, (e) => e.completionTokens),
    costUsd: Math.round(sumOf(events, (e) => e.costUsd) * 1e9),
    cacheHits: 4,
    errors: 4,
    rejected: 4,
  });
  assert.deepEqual(report.rows.map((row) => [row.key, row.requests]), [["gpt-4o", 8], ["gpt-4o-mini", 12]]);
  const byDay = await harness.usage.report({ from: yesterday, to: today }, { tenant: "acme" });
  assert.deepEqual(byDay.rows.map((row) => [row.key, row.requests]), [[yesterday, 8], [today, 12]]);
  const todayOnly = await harness.usage.report({ groupBy: "service" }, { tenant: "acme" });
  assert.deepEqual(todayOnly.rows.map((row) => [row.key, row.requests]), [["checkout", 8], ["search", 4]]);
  assert.equal((await harness.usage.report({}, { tenant: "nobody-yet" })).total.requests, 0);
});

test("an event is counted once however often, and at the same moment, two replicas are handed it", async () => {
  const replicas = [createUsageLedger(LEDGER_OPTIONS), createUsageLedger(LEDGER_OPTIONS)];
  const stores = [replicaStore(), replicaStore()];
  const repeated = usageEvent({ tenant: "burst", service: "fanout", costUsd: 0.5, completionTokens: 1000 });
  const distinct = Array.from({ length: 25 }, (_, i) => usageEvent({ tenant: "burst", service: "fanout", completionTokens: i, costUsd: 0 }));
  const apply = (replica: number, eventId: string, event: UsageEvent) => replicas[replica]!.apply(stores[replica]!, { tenant: "burst", eventId, event, retentionDays: 30 });
  await Promise.all([
    ...Array.from({ length: 10 }, (_, i) => apply(i % 2, "same-event", repeated)),
    ...distinct.flatMap((event, i) => [apply(0, `event-${i}`, event), apply(1, `event-${i}`, event)]),
  ].map((applied) => applied.catch((error: { code?: string }) => {
    // A batch aborted by the other replica's delivery is retried by the runtime: do the same.
    assert.equal(error.code, "UNAVAILABLE");
  })));
  // Retry what a racing delivery aborted, as a redelivery would; then every event counts once.
  await Promise.all([apply(0, "same-event", repeated), ...distinct.map((event, i) => apply(1, `event-${i}`, event))]);
  await apply(1, "same-event", repeated);
  const report = await harness.usage.report({}, { tenant: "burst" });
  assert.deepEqual([report.total.requests, report.total.completionTokens, report.total.costUsd], [26, 1300, 0.5]);
});

test("a batch that died between claiming its events and committing them is aborted, and its events counted by the next delivery", async () => {
  const day = utcDay(new Date());
  const events = Array.from({ length: 3 }, (_, i) => usageEvent({ tenant: "orphan", costUsd: 0.25, promptTokens: i }));
  const claims = store.collection(USAGE_EVENTS);
  // What a replica SIGKILLed after its claim insert leaves behind: claims of a batch that never committed.
  for (const [i, event] of events.entries()) {
    await claims.insert("orphan", keys.claim(`orphan-${i}`, 1), {
      batch: "dead-batch", day, service: event.service, model: event.model, ...countersOf(event), at: new Date(event.at), expiresAt: new Date(Date.now() + 86_400_000),
    });
  }
  const ledger = createUsageLedger(LEDGER_OPTIONS);
  await Promise.all(events.map((event, i) => ledger.apply(store, { tenant: "orphan", eventId: `orphan-${i}`, event, retentionDays: 30 })));
  const late = await ledger.dayLedger(store).commit("orphan", day, "dead-batch", [], new Date(Date.now() + 86_400_000));
  assert.equal(late.outcome, "aborted", "the dead batch can no longer commit");
  const reclaimed = await claims.getMany("orphan", events.map((_, i) => keys.claim(`orphan-${i}`, 2)));
  assert.ok(reclaimed.every((claim) => claim !== null && claim.batch !== "dead-batch"), "each event claimed anew, generation 2");
  const report = await harness.usage.report({}, { tenant: "orphan" });
  assert.deepEqual([report.total.requests, report.total.costUsd, report.total.promptTokens], [3, 0.75, 3]);
  await Promise.all(events.map((event, i) => ledger.apply(store, { tenant: "orphan", eventId: `orphan-${i}`, event, retentionDays: 30 })));
  assert.equal((await harness.usage.report({}, { tenant: "orphan" })).total.requests, 3, "later deliveries change nothing");
});

test("tenants whose ids share a prefix never see each other's usage", async () => {
  await harness.publish(usageEvent({ tenant: "acme", service: "prefix-test", costUsd: 0.001 }));
  await harness.publish(usageEvent({ tenant: "acme-eu", service: "prefix-test", costUsd: 0.002 }));
  await harness.publish(usageEvent({ tenant: "acme-eu", service: "prefix-test", costUsd: 0.002 }));
  await untilUsageConsumed(harness.jsm);
  const rowOf = async (tenant: string) => (await harness.usage.report({ groupBy: "service" }, { tenant })).rows.find((row) => row.key === "prefix-test")?.requests;
  assert.deepEqual([await rowOf("acme"), await rowOf("acme-eu"), await rowOf("acme-e")], [1, 2, undefined]);
});

test("malformed events and events naming another tenant than their header are dead-lettered, not counted", async () => {
  await harness.publish(usageEvent({ tenant: "victim", costUsd: 1 }), "intruder");
  const headers = natsHeaders();
  headers.set("Mw-Tenant", "victim");
  headers.set("Mw-Event-Id", "malformed-1");
  await jetstream(harness.nc).publish("events.llm.usage", JSON.stringify({ tenant: "victim", costUsd: "lots" }), { headers, msgID: "malformed-1" });
  await untilUsageConsumed(harness.jsm);
  const { state } = await harness.jsm.streams.info("DLQ_USAGE");
  assert.equal(state.messages, 2);
  assert.equal((await harness.usage.report({}, { tenant: "victim" })).total.requests, 0);
  assert.equal((await harness.usage.report({}, { tenant: "intruder" })).total.requests, 0);
});

test("bad report queries get BAD_REQUEST", async () => {
  for (const query of [
    { from: "2024-02-30" },
    { from: "2024-03-02", to: "2024-03-01" },
    { from: "2023-01-01", to: "2024-12-31" },
    { groupBy: "tenant" },
    { from: 20240101 },
    { tenant: "someone-else" },
  ]) {
    await assert.rejects(harness.usage.report(query as never, { tenant: "acme" }), (error: { code?: string }) => error.code === "BAD_REQUEST", JSON.stringify(query));
  }
  await assert.rejects(harness.usage.report({}, {}), (error: { code?: string }) => error.code === "BAD_REQUEST", "no tenant header");
});
