import { test } from "node:test";
import assert from "node:assert/strict";
import { z } from "zod";
import { jetstreamManager } from "@nats-io/jetstream";
import { headers as createHeaders } from "@nats-io/nats-core";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { MeshError } from "../errors.ts";
import { ensureEventStream } from "./ensure-streams.ts";
import { createEventPublisher } from "./event-publisher.ts";
import { startEventConsumer } from "./event-consumer.ts";
import { connectForTest, eventRecorder, readStream } from "./test-support.ts";

const servers = await useTestServers();
const nc = await connectForTest(servers);
const jsm = await jetstreamManager(nc);
const js = jsm.jetstream();
await ensureEventStream(jsm, "orders");
const publisher = createEventPublisher(nc, { actor: "orders" });
const TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

function orderEvent(name: string) {
  return { subject: `events.orders.${name}`, schema: z.object({ n: z.number().int() }) };
}

/** Runs a consumer until `count` events were dead-lettered; returns how often the handler ran and the DLQ's copies. */
async function deadLetterRun(name: string, handler: () => Promise<void>, publish: () => Promise<unknown>, maxDeliver = 3) {
  const event = orderEvent(name);
  const recorder = eventRecorder();
  let calls = 0;
  const consumer = await startEventConsumer({
    nc, consumerActor: "billing", spec: { event, handler: async () => undefined, maxDeliver, backoffMs: [10] }, onEvent: recorder.listener,
    process: async () => {
      calls++;
      await handler();
    },
  });
  await publish();
  await recorder.until("dead-lettered");
  await consumer.stop();
  const copies = (await readStream(jsm, "DLQ_BILLING")).filter((message) => message.subject === `dlq.billing.${event.subject}`);
  return { calls, copies, recorder, info: await consumer.info() };
}

test("an always-failing handler is dead-lettered after maxDeliver, with the reason and the original headers and body", { timeout: 30_000 }, async () => {
  const run = await deadLetterRun("doomed", async () => {
    throw new Error("boom");
  }, () => publisher.publish(orderEvent("doomed"), { n: 7 }, { eventId: "doomed-1", tenant: "acme", traceparent: TRACEPARENT, service: "shop" }));
  assert.equal(run.calls, 3);
  assert.equal(run.recorder.count("retry"), 2);
  assert.equal(run.copies.length, 1);
  const [copy] = run.copies;
  assert.ok(copy);
  assert.deepEqual(copy.json(), { n: 7 }, "body unchanged");
  assert.equal(copy.header.get("Mw-Dlq-Reason"), "max deliveries (handler: INTERNAL boom)");
  assert.equal(copy.header.get("Mw-Dlq-Delivery-Count"), "3");
  assert.equal(copy.header.get("Mw-Dlq-Original-Subject"), "events.orders.doomed");
  assert.equal(copy.header.get("Mw-Dlq-Consumer"), "billing--doomed");
  assert.equal(copy.header.get("Mw-Event-Id"), "doomed-1");
  assert.equal(copy.header.get("Mw-Tenant"), "acme");
  assert.equal(copy.header.get("traceparent"), TRACEPARENT);
  assert.equal(copy.header.get("Mw-Service"), "shop");
  assert.match(copy.header.get("Nats-Msg-Id"), /^billing--doomed:doomed-1:\d+$/, "durable, event id and the stored message's sequence");
  assert.deepEqual({ pending: run.info.pending, ackPending: run.info.ackPending }, { pending: 0, ackPending: 0 });
});

test("a terminal handler error is dead-lettered at once", { timeout: 30_000 }, async () => {
  const run = await deadLetterRun("refused", async () => {
    throw new MeshError("NOT_FOUND", "no such order");
  }, () => publisher.publish(orderEvent("refused"), { n: 1 }, { eventId: "refused-1" }));
  assert.equal(run.calls, 1);
  assert.equal(run.copies[0]?.header.get("Mw-Dlq-Reason"), "handler: NOT_FOUND no such order");
  assert.equal(run.copies[0]?.header.get("Mw-Dlq-Delivery-Count"), "1");
});

test("bad input: a payload failing the schema is poison, dead-lettered at once and never handled", { timeout: 30_000 }, async () => {
  const headers = createHeaders();
  headers.set("Mw-Event-Id", "poison-1");
  const run = await deadLetterRun("poisoned", async () => undefined, () => js.publish("events.orders.poisoned", JSON.stringify({ n: "seven" }), { headers }));
  assert.equal(run.calls, 0);
  assert.equal(run.recorder.count("retry"), 0);
  assert.match(run.copies[0]?.header.get("Mw-Dlq-Reason") ?? "", /^schema: n: /);
  assert.equal(run.copies[0]?.header.get("Mw-Dlq-Delivery-Count"), "1");
  assert.equal(run.copies[0]?.string(), JSON.stringify({ n: "seven" }));
  assert.deepEqual({ ackPending: run.info.ackPending, redelivered: run.info.redelivered }, { ackPending: 0, redelivered: 0 });
});

test("bad input: malformed JSON is poison, dead-lettered at once with the body unchanged", { timeout: 30_000 }, async () => {
  const run = await deadLetterRun("garbled", async () => undefined, () => js.publish("events.orders.garbled", "{not json", { msgID: "garbled-1" }));
  assert.equal(run.calls, 0);
  assert.equal(run.copies[0]?.header.get("Mw-Dlq-Reason"), "schema: malformed JSON");
  assert.equal(run.copies[0]?.header.get("Mw-Dlq-Delivery-Count"), "1");
  assert.equal(run.copies[0]?.string(), "{not json");
  // Without Mw-Event-Id the stream's msg id names the event.
  assert.match(run.copies[0]?.header.get("Nats-Msg-Id") ?? "", /^billing--garbled:garbled-1:\d+$/);
  assert.deepEqual({ ackPending: run.info.ackPending, redelivered: run.info.redelivered }, { ackPending: 0, redelivered: 0 });
});
