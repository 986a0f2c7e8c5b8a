import assert from "node:assert/strict";
import { after, test } from "node:test";
import { DiscardPolicy } from "@nats-io/jetstream";
import { MongoClient } from "mongodb";
import { streamName } from "../../protocol/subjects.ts";
import type { CompletionResult } from "../../protocol/llm.ts";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { EVENT_OUTBOX } from "./event-outbox.ts";
import { ask, startLlmMesh, sumOf, untilSettled, untilState, untilUsageConsumed } from "./test-support.ts";

const servers = await useTestServers();
// Provider calls of at most 5 s, shares usable for 500 ms: a share lives 5.5 s + 300 ms of settle grace.
const mesh = await startLlmMesh(servers, {
  llm: { timeoutMs: 5000, publishRetryMs: 100, outboxDrainMs: 100, shareUsableMs: 500 },
  aiCapacity: { leaseTtlMs: 300, sweepIntervalMs: 50 },
  usage: {},
});
const mongo = new MongoClient(servers.mongoUrl);
const outbox = mongo.db(`${servers.databasePrefix}_llm`).collection(EVENT_OUTBOX);
after(() => mongo.close());

const nano = (usd: number) => Math.round(usd * 1e9);

async function usageTotals(tenant: string) {
  await untilUsageConsumed(mesh.jsm);
  return (await mesh.usage.report({ groupBy: "model" }, { tenant })).total;
}

test("settle path down (ai-capacity stopped with calls at the provider), then back: every answered call is charged exactly its cost", async (t) => {
  await mesh.createTenant("outage");
  const calls = 20;
  await mesh.provider.setBehaviour({ model: "gpt-4o", hang: true });
  const answers = Array.from({ length: calls }, (_, i) => mesh.llm.complete(ask(`outage ${i}`, { model: "gpt-4o" }), { tenant: "outage" }));
  // Every call holds its lease and waits at the provider: now the settle path goes away.
  await mesh.provider.untilHanging(calls);
  for (const replica of mesh.capacityReplicas.splice(0)) await replica.stop();
  await mesh.provider.setBehaviour({ model: "gpt-4o", hang: false });
  const results: CompletionResult[] = await Promise.all(answers);
  assert.equal((await mesh.provider.stats()).byModel["gpt-4o"], calls);

  await mesh.startCapacityReplica();
  await mesh.untilNothingReserved("outage");
  const status = await mesh.capacity.status({}, { tenant: "outage" });
  const billed = sumOf(results, (result) => nano(result.costUsd));
  t.diagnostic(`${calls} calls answered while ai-capacity was down: billed $${billed / 1e9}, charged $${status.spentUsd} once it was back`);
  assert.ok(billed > 0);
  assert.equal(nano(status.spentUsd), billed, "spent equals what the provider billed and the callers were told");
  assert.equal(status.reservedUsd, 0);
  await mesh.usageEvents("outage", calls);
  const usage = await usageTotals("outage");
  assert.equal(usage.requests, calls);
  assert.equal(nano(usage.costUsd), billed);
});

test("JetStream refusing publishes: answers go out, events wait in the outbox, expired shares are charged their reservation, then corrected to the cost", async (t) => {
  await mesh.createTenant("refused");
  const stream = streamName("llm");
  const { state } = await mesh.jsm.streams.info(stream);
  await mesh.jsm.streams.update(stream, { max_msgs: state.messages, discard: DiscardPolicy.New });
  let restored = false;
  const restore = async () => {
    if (restored) return;
    restored = true;
    await mesh.jsm.streams.update(stream, { max_msgs: -1, discard: DiscardPolicy.Old });
  };
  after(restore);

  const calls = 10;
  const results = await Promise.all(Array.from({ length: calls }, (_, i) => mesh.llm.complete(ask(`refused ${i}`), { tenant: "refused" })));
  const held = await mesh.capacity.status({}, { tenant: "refused" });
  assert.ok(held.reservedUsd > 0, "the shares are still open: no settlement arrived");
  // Usage events are published after each answer, a share's settlement once it is idle: all land in the outbox.
  const kept = (subject: string) => outbox.countDocuments({ tenant: "refused", subject });
  await untilState("every event kept in the outbox", async () => (await kept("events.llm.usage")) === calls && (await kept("events.llm.settlement")) > 0);
  const settlements = await kept("events.llm.settlement");
  t.diagnostic(`${calls} usage events and ${settlements} share settlements kept`);

  // Past the shares' lifetime the outcome is unknown: each is charged its whole reservation.
  await untilState("the shares to expire", async () => (await mesh.capacity.status({}, { tenant: "refused" })).reservedUsd === 0);
  const expired = await mesh.capacity.status({}, { tenant: "refused" });
  assert.equal(nano(expired.spentUsd), nano(held.reservedUsd), "charged conservatively: the reservations");

  await restore();
  await untilState("the outbox to be published", async () => (await outbox.countDocuments({ tenant: "refused" })) === 0);
  await untilSettled(mesh.jsm);
  const billed = sumOf(results, (result) => nano(result.costUsd));
  const corrected = await mesh.capacity.status({}, { tenant: "refused" });
  t.diagnostic(`${calls} calls answered while JetStream refused: billed $${billed / 1e9}; charged $${expired.spentUsd} at expiry (reservations), $${corrected.spentUsd} once the events arrived`);
  assert.ok(billed < nano(held.reservedUsd));
  assert.equal(nano(corrected.spentUsd), billed, "corrected to what the provider billed, once");
  await mesh.usageEvents("refused", calls);
  const usage = await usageTotals("refused");
  assert.equal(usage.requests, calls);
  assert.equal(nano(usage.costUsd), billed);
  assert.equal(usage.promptTokens, sumOf(results, (result) => result.usage.promptTokens));
});
