/**
 * The database stopped while requests and events keep coming: requests fail fast with
 * UNAVAILABLE, events wait out the outage without using their delivery budget (none is
 * dead-lettered), and both recover by themselves when the database is back.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { jetstreamManager } from "@nats-io/jetstream";
import { usePrivateMongo, useTestServers } from "../../sandbox/testing/test-servers.ts";
import { actorClient, isMeshError, MeshClient } from "../index.ts";
import { fixtureActor, fixtureContract, fixtureSinkActor, fixtureSinkContract } from "../testing/fixture-actors.ts";
import { startInProcess } from "../testing/replicas.ts";

const servers = await useTestServers();
const mongo = await usePrivateMongo();
const onPrivateMongo = { ...servers, mongoUrl: mongo.url };
await startInProcess(fixtureActor, onPrivateMongo, { instanceId: "outage-fixture" });
const sinkReplica = await startInProcess(fixtureSinkActor, onPrivateMongo, { instanceId: "outage-sink" });
const nc = await servers.connectNats();
const jsm = await jetstreamManager(nc);
const mesh = new MeshClient(nc);
const fixture = actorClient(mesh, fixtureContract);
const sink = actorClient(mesh, fixtureSinkContract);
after(async () => {
  mesh.close();
  await nc.close();
});

/** Polls a reading until it satisfies `done` (bounded); returns the last reading. */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read().catch(() => undefined as T);
  while (!done(value) && Date.now() < deadline) {
    await sleep(100); // a reading to poll: neither the database nor JetStream tells us when it changes
    value = await read().catch(() => undefined as T);
  }
  return value;
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(() => "OK", (error: unknown) => (isMeshError(error) ? error.code : String(error)));
}

/** Failed deliveries of the sink's consumer that were put back for a retry. */
async function sinkRetries(): Promise<number> {
  const { values } = await sinkReplica.metrics.events.get();
  return values.filter((v) => v.labels.outcome === "retry").reduce((sum, v) => sum + v.value, 0);
}

async function deadLetters(): Promise<number> {
  return jsm.streams.info("DLQ_FIXTURE_SINK").then((info) => info.state.messages, () => 0);
}

test("a database outage longer than every event's delivery budget: requests get UNAVAILABLE, events wait and are applied once afterwards, none dead-lettered", { timeout: 120_000 }, async (t) => {
  const before = Array.from({ length: 10 }, (_, n) => `before-${n}`);
  for (const value of before) await fixture.emit({ value }, { tenant: "outage" });
  await until(() => sink.applied({}, { tenant: "outage" }).then((r) => r.values), (values) => Object.keys(values ?? {}).length === before.length);

  await mongo.stop();
  const down = Date.now();
  const whileDown: string[] = [];
  for (let i = 0; i < 8; i++) whileDown.push(await codeOf(fixture.count({ amount: 1 }, { tenant: "outage", maxAttempts: 1, timeoutMs: 4000 })));
  assert.deepEqual([...new Set(whileDown)], ["UNAVAILABLE"], "requests fail fast with the typed error, never TIMEOUT");
  // Publishing needs no database: events keep coming during the outage.
  const during = Array.from({ length: 10 }, (_, n) => `during-${n}`);
  for (const value of during) await fixture.emit({ value }, { tenant: "outage" });
  // The sink's budget is 3 deliveries an event, so at most 2 retries each before it would be
  // dead-lettered; hold the outage until the events were retried more than that.
  const budgetRetries = during.length * (fixtureSinkActor.consumers![0]!.maxDeliver! - 1);
  const retried = await until(sinkRetries, (n) => n > budgetRetries + during.length);
  assert.ok(retried > budgetRetries + during.length, `retries during the outage: ${retried}`);
  assert.equal(await deadLetters(), 0, "an outage dead-letters nothing");
  await mongo.restart();
  const outageMs = Date.now() - down;

  const applied = await until(() => sink.applied({}, { tenant: "outage" }).then((r) => r.values), (values) => Object.keys(values ?? {}).length === before.length + during.length);
  assert.deepEqual(Object.keys(applied).sort(), [...before, ...during].sort(), "every event applied after the outage");
  assert.deepEqual(Object.values(applied).filter((times) => times !== 1), [], "none applied twice");
  assert.equal(await deadLetters(), 0, "none dead-lettered");
  const recovered = await until(() => codeOf(fixture.count({ amount: 1 }, { tenant: "outage", maxAttempts: 1 })), (code) => code === "OK");
  assert.equal(recovered, "OK", "requests recover by themselves");
  t.diagnostic(`outage ${outageMs} ms, ${retried} retries during it, 0 dead-lettered`);
});
