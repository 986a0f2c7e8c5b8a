import { test } from "node:test";
import assert from "node:assert/strict";
import { jetstreamManager, DiscardPolicy, StorageType } from "@nats-io/jetstream";
import { nanos } from "@nats-io/nats-core";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { hasCode } from "../errors.ts";
import { ensureDeadLetterStream, ensureEventStream, ensureEventStreamExists } from "./ensure-streams.ts";
import { connectForTest } from "./test-support.ts";

const servers = await useTestServers();
const nc = await connectForTest(servers);
const jsm = await jetstreamManager(nc);

test("the event stream is created with its defaults, and a second ensure changes nothing", async () => {
  const first = await ensureEventStream(jsm, "orders");
  const second = await ensureEventStream(jsm, "orders");
  assert.equal(first.config.name, "EVENTS_ORDERS");
  assert.deepEqual(second.config.subjects, ["events.orders.>"]);
  assert.equal(second.config.storage, StorageType.File);
  assert.equal(second.config.discard, DiscardPolicy.Old);
  assert.equal(second.config.max_age, nanos(7 * 24 * 3600 * 1000));
  assert.equal(second.config.duplicate_window, nanos(120_000));
  assert.equal(second.created, first.created, "not recreated");
});

test("replicas starting at once on two connections both succeed, leaving one stream", async () => {
  const other = await connectForTest(servers);
  const otherJsm = await jetstreamManager(other);
  const results = await Promise.all([ensureEventStream(jsm, "ai-gateway"), ensureEventStream(otherJsm, "ai-gateway"), ensureDeadLetterStream(jsm, "ai-gateway"), ensureDeadLetterStream(otherJsm, "ai-gateway")]);
  assert.deepEqual(results.map((info) => info.config.name), ["EVENTS_AI_GATEWAY", "EVENTS_AI_GATEWAY", "DLQ_AI_GATEWAY", "DLQ_AI_GATEWAY"]);
  const names: string[] = [];
  for await (const name of jsm.streams.names("events.ai-gateway.x")) names.push(name);
  assert.deepEqual(names, ["EVENTS_AI_GATEWAY"]);
});

test("changed options are applied to the existing stream", async () => {
  await ensureEventStream(jsm, "billing");
  await jsm.jetstream().publish("events.billing.kept", "{}");
  const updated = await ensureEventStream(jsm, "billing", { maxAgeMs: 3_600_000, duplicateWindowMs: 30_000 });
  assert.equal(updated.config.max_age, nanos(3_600_000));
  assert.equal(updated.config.duplicate_window, nanos(30_000));
  assert.equal(updated.state.messages, 1, "data kept");
});

test("a consumer creating a missing producer stream does not override the producer's options", async () => {
  await ensureEventStreamExists(jsm, "quotas");
  assert.equal((await jsm.streams.info("EVENTS_QUOTAS")).config.max_age, nanos(7 * 24 * 3600 * 1000));
  await ensureEventStream(jsm, "quotas", { maxAgeMs: 3_600_000 });
  await ensureEventStreamExists(jsm, "quotas");
  assert.equal((await jsm.streams.info("EVENTS_QUOTAS")).config.max_age, nanos(3_600_000));
});

test("the dead-letter stream keeps 14 days of dlq.<actor>.>", async () => {
  const info = await ensureDeadLetterStream(jsm, "usage");
  assert.equal(info.config.name, "DLQ_USAGE");
  assert.deepEqual(info.config.subjects, ["dlq.usage.>"]);
  assert.equal(info.config.max_age, nanos(14 * 24 * 3600 * 1000));
});

test("bad input: invalid actor names and options are programming errors", async () => {
  await assert.rejects(ensureEventStream(jsm, "Bad.Actor"), (error) => hasCode(error, "INTERNAL"));
  await assert.rejects(ensureDeadLetterStream(jsm, "x"), (error) => hasCode(error, "INTERNAL"));
  await assert.rejects(ensureEventStream(jsm, "orders", { maxAgeMs: 1000, duplicateWindowMs: 5000 }), (error) => hasCode(error, "INTERNAL"));
  await assert.rejects(ensureEventStream(jsm, "orders", { maxAgeMs: -1 }), (error) => hasCode(error, "INTERNAL"));
});
