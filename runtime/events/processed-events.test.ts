import { test, after } from "node:test";
import assert from "node:assert/strict";
import { z } from "zod";
import { MongoClient } from "mongodb";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { headers as createHeaders } from "@nats-io/nats-core";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { ensureEventStream } from "./ensure-streams.ts";
import { createEventPublisher } from "./event-publisher.ts";
import { startEventConsumer } from "./event-consumer.ts";
import { coalescingWriter } from "./coalescing-writer.ts";
import { bucketOf, mongoDedupe, PROCESSED_EVENTS_COLLECTION, type ProcessedEventsRecord } from "./processed-events.ts";
import { connectForTest, eventRecorder } from "./test-support.ts";

const servers = await useTestServers();
const mongo = new MongoClient(servers.mongoUrl);
after(() => mongo.close());
const db = mongo.db(`${servers.databasePrefix}_billing`);
const nc = await connectForTest(servers);
const jsm = await jetstreamManager(nc);
await ensureEventStream(jsm, "orders");
const publisher = createEventPublisher(nc, { actor: "orders" });

/** A delivery at stream sequence `sequence`; `copy` when stored under another msg id. */
const at = (eventId: string, sequence: number, copy = false) => ({ eventId, streamSequence: sequence, copy });

test("an event is seen once recorded; recording twice is fine; durables are separate", async () => {
  const dedupe = mongoDedupe(db, "billing--placed");
  assert.equal(await dedupe.seen(at("e-1", 7)), false);
  await dedupe.record(at("e-1", 7));
  await dedupe.record(at("e-1", 7));
  assert.equal(await dedupe.seen(at("e-1", 7)), true);
  assert.equal(await mongoDedupe(db, "billing--cancelled").seen(at("e-1", 7)), false);
  const stored = await db.collection<ProcessedEventsRecord>(PROCESSED_EVENTS_COLLECTION).find({ consumer: "billing--placed" }).toArray();
  assert.equal(stored.length, 2, "each write is a record of its own");
  assert.ok(stored.every((record) => record.ids === "e-1" && record.bucket === 0 && record.expiresAt.getTime() > Date.now() + 6 * 24 * 3600 * 1000));
});

test("ids recorded together share a record per sequence bucket; a batch of lookups tells recorded from unrecorded ids", async () => {
  const dedupe = mongoDedupe(db, "billing--bulk");
  const sequences = Array.from({ length: 1000 }, (_, n) => n * 9); // 0..8991: buckets 0, 1 and 2
  await Promise.all(sequences.map((sequence) => dedupe.record(at(`bulk-${sequence}`, sequence))));
  await dedupe.record(at("bulk-late", 20_000));
  const records = await db.collection<ProcessedEventsRecord>(PROCESSED_EVENTS_COLLECTION).find({ consumer: "billing--bulk" }).toArray();
  assert.deepEqual(records.map((record) => record.bucket).sort(), [0, 1, 2, bucketOf(20_000)]);
  const probes = [at("bulk-0", 0), at("bulk-8991", 8991), at("bulk-late", 20_000), at("bulk-9", 10), at("other", 3)];
  assert.deepEqual(await Promise.all(probes.map((probe) => dedupe.seen(probe))), [true, true, true, true, false]);
});

test("a copy under a new sequence is found in another bucket; a redelivery is looked up in its own bucket only", async () => {
  const dedupe = mongoDedupe(db, "billing--copies");
  await dedupe.record(at("c-1", 5));
  assert.equal(await dedupe.seen(at("c-1", 50_000, true)), true, "a copy is found wherever it was recorded");
  assert.equal(await dedupe.seen(at("c-1", 50_000)), false, "a redelivery at 50,000 was never recorded there");
  assert.equal(await dedupe.seen(at("c-", 50_000, true)), false, "ids match whole, not by prefix");
  assert.equal(await dedupe.seen(at("c.1", 50_000, true)), false, "ids are matched literally");
});

test("expired records are not seen and are swept", async () => {
  const dedupe = mongoDedupe(db, "billing--expiring", 0);
  await dedupe.record(at("e-2", 1));
  assert.equal(await dedupe.seen(at("e-2", 1)), false);
  assert.equal(await dedupe.sweepExpired(), 1);
  assert.equal(await db.collection(PROCESSED_EVENTS_COLLECTION).countDocuments({ consumer: "billing--expiring" }), 0);
});

test("an event redelivered after processing (same Mw-Event-Id, new msg id) is not processed twice", { timeout: 30_000 }, async () => {
  const event = { subject: "events.orders.deduped", schema: z.object({ n: z.number() }) };
  const recorder = eventRecorder();
  const processed: string[] = [];
  const dedupe = mongoDedupe(db, "billing--deduped");
  const consumer = await startEventConsumer({
    nc, consumerActor: "billing", spec: { event, handler: async () => undefined }, onEvent: recorder.listener,
    dedupe,
    process: async (_payload, delivery) => {
      processed.push(delivery.eventId);
    },
  });
  await publisher.publish(event, { n: 1 }, { eventId: "dup-1" });
  await recorder.until("processed");
  // The record is written after the ack (batched); the repeat in question comes later than that.
  while (!(await dedupe.seen(at("dup-1", 1, true)))) await new Promise((resolve) => setTimeout(resolve, 10));
  const headers = createHeaders();
  headers.set("Mw-Event-Id", "dup-1");
  const republished = await jsm.jetstream().publish(event.subject, JSON.stringify({ n: 1 }), { msgID: "another-msg-id", headers });
  assert.equal(republished.duplicate, false, "the stream stored it again");
  await recorder.until("duplicate");
  await consumer.stop();
  assert.deepEqual(processed, ["dup-1"]);
  assert.deepEqual(recorder.events.filter((e) => e.type === "duplicate").map((e) => e.eventId), ["dup-1"]);
  assert.equal((await consumer.info()).ackPending, 0);
});

test("a first delivery under its own event id skips the lookup; a burst of records shares round trips", async () => {
  const event = { subject: "events.orders.counted", schema: z.object({ n: z.number() }) };
  const dedupe = mongoDedupe(db, "billing--counted");
  let lookups = 0;
  const recorder = eventRecorder();
  const consumer = await startEventConsumer({
    nc, consumerActor: "billing", spec: { event, handler: async () => undefined, batchSize: 32 }, onEvent: recorder.listener,
    dedupe: { seen: (id) => { lookups++; return dedupe.seen(id); }, record: (id) => dedupe.record(id) },
    process: async () => undefined,
  });
  for (let n = 0; n < 50; n++) await publisher.publish(event, { n }, { eventId: `counted-${n}` });
  await recorder.until("processed", 50);
  await consumer.stop();
  assert.equal(lookups, 0);
  const records = await db.collection<ProcessedEventsRecord>(PROCESSED_EVENTS_COLLECTION).find({ consumer: "billing--counted" }).toArray();
  assert.deepEqual(records.flatMap((record) => record.ids.split("\n")).sort(), Array.from({ length: 50 }, (_, n) => `counted-${n}`).sort());
  assert.ok(records.length < 50, `50 ids in ${records.length} writes`);
});

test("bad input: a failing dedupe store retries the event instead of processing or dropping it", { timeout: 30_000 }, async () => {
  const event = { subject: "events.orders.unsure", schema: z.object({ n: z.number() }) };
  const recorder = eventRecorder();
  let lookups = 0;
  const processed: number[] = [];
  const consumer = await startEventConsumer({
    nc, consumerActor: "billing", spec: { event, handler: async () => undefined, backoffMs: [10] }, onEvent: recorder.listener,
    dedupe: {
      seen: async () => {
        if (++lookups === 1) throw new Error("database unreachable");
        return false;
      },
      record: async () => undefined,
    },
    process: async (_payload, delivery) => {
      processed.push(delivery.deliveryCount);
    },
  });
  // Republished under another msg id than its event id: the consumer must look it up.
  const h = createHeaders();
  h.set("Mw-Event-Id", "unsure-1");
  await jetstream(nc).publish("events.orders.unsure", JSON.stringify({ n: 1 }), { headers: h, msgID: "republish-1" });
  await recorder.until("processed");
  await consumer.stop();
  assert.deepEqual(processed, [2]);
  assert.match(recorder.events.find((e) => e.type === "retry")?.reason ?? "", /^dedupe: INTERNAL database unreachable/);
});

test("bad input: a record that cannot be written is reported once per write; the events stay processed and acked", { timeout: 30_000 }, async () => {
  const event = { subject: "events.orders.unrecorded", schema: z.object({ n: z.number() }) };
  const recorder = eventRecorder();
  let writes = 0;
  const failingStore = coalescingWriter(async () => {
    writes++;
    throw new Error("disk full");
  }, { maxBatch: 100, lingerMs: 50 });
  const consumer = await startEventConsumer({
    nc, consumerActor: "billing", spec: { event, handler: async () => undefined }, onEvent: recorder.listener,
    dedupe: { seen: async () => false, record: (id) => failingStore.add(id) },
    process: async () => undefined,
  });
  await Promise.all([0, 1, 2, 3, 4].map((n) => publisher.publish(event, { n }, { eventId: `unrecorded-${n}` })));
  await recorder.until("processed", 5);
  await consumer.stop();
  const errors = recorder.events.filter((e) => e.type === "error");
  assert.ok(writes >= 1 && writes < 5, `5 ids in ${writes} writes`);
  assert.deepEqual(errors.map((e) => e.reason), Array(writes).fill("dedupe record failed"));
  const info = await consumer.info();
  assert.equal(info.ackPending + info.pending, 0);
});
