import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as simulateWork } from "node:timers/promises";
import { z } from "zod";
import { jetstreamManager } from "@nats-io/jetstream";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { hasCode, MeshError } from "../errors.ts";
import type { ConsumerSpec } from "../types.ts";
import { ensureEventStream } from "./ensure-streams.ts";
import { createEventPublisher } from "./event-publisher.ts";
import { startEventConsumer, type EventConsumer } from "./event-consumer.ts";
import type { EventDelivery } from "./types.ts";
import { connectForTest, eventRecorder, gate } from "./test-support.ts";

const servers = await useTestServers();
const nc = await connectForTest(servers);
const jsm = await jetstreamManager(nc);
await ensureEventStream(jsm, "orders");
const publisher = createEventPublisher(nc, { actor: "orders" });

/** Each test uses its own event so each gets its own durable consumer. */
function orderEvent(name: string) {
  return { subject: `events.orders.${name}`, schema: z.object({ n: z.number().int() }) };
}
function spec(event: ReturnType<typeof orderEvent>, overrides: Partial<ConsumerSpec> = {}): ConsumerSpec {
  return { event, handler: async () => undefined, backoffMs: [10], ...overrides };
}
async function publishMany(event: ReturnType<typeof orderEvent>, count: number): Promise<void> {
  for (let n = 0; n < count; n++) await publisher.publish(event, { n }, { eventId: `${event.subject}-${n}`, tenant: "acme" });
}

test("two replicas of one durable share 200 events, each processed once", { timeout: 60_000 }, async () => {
  const event = orderEvent("shared");
  await publishMany(event, 200);
  const processedBy: Record<"a" | "b", number[]> = { a: [], b: [] };
  const bothStarted = gate();
  const recorder = eventRecorder();
  const replica = async (name: "a" | "b") => startEventConsumer({
    nc: await connectForTest(servers),
    consumerActor: "billing",
    spec: spec(event),
    onEvent: recorder.listener,
    process: async (payload) => {
      processedBy[name].push((payload as { n: number }).n);
      if (processedBy.a.length > 0 && processedBy.b.length > 0) bothStarted.open();
      // Replica a can hold at most two batches while blocked, so replica b must get the rest.
      await bothStarted.opened;
    },
  });
  const replicas = [await replica("a"), await replica("b")];
  await recorder.until("processed", 200);
  await Promise.all(replicas.map((consumer) => consumer.stop()));
  const all = [...processedBy.a, ...processedBy.b].sort((x, y) => x - y);
  assert.deepEqual(all, Array.from({ length: 200 }, (_, n) => n));
  assert.ok(processedBy.a.length > 0 && processedBy.b.length > 0);
  assert.equal(replicas[0]!.durable, "billing--shared");
  assert.deepEqual(await replicas[0]!.info(), { durable: "billing--shared", pending: 0, ackPending: 0, redelivered: 0 });
});

test("a handler failing transiently twice is retried and processed once, on delivery 3", { timeout: 30_000 }, async () => {
  const event = orderEvent("flaky");
  const deliveries: EventDelivery[] = [];
  const recorder = eventRecorder();
  const consumer = await startEventConsumer({
    nc, consumerActor: "billing", spec: spec(event), onEvent: recorder.listener,
    process: async (_payload, delivery) => {
      deliveries.push(delivery);
      if (delivery.deliveryCount < 3) throw new MeshError("UNAVAILABLE", "database down");
    },
  });
  await publisher.publish(event, { n: 1 }, { eventId: "flaky-1", tenant: "acme" });
  await recorder.until("processed");
  await consumer.stop();
  assert.deepEqual(deliveries.map((delivery) => delivery.deliveryCount), [1, 2, 3]);
  assert.equal(recorder.count("retry"), 2);
  assert.match(recorder.events.find((e) => e.type === "retry")?.reason ?? "", /^handler: UNAVAILABLE database down/);
  const processed = recorder.events.filter((e) => e.type === "processed");
  assert.deepEqual(processed.map((e) => [e.eventId, e.deliveryCount]), [["flaky-1", 3]]);
  assert.equal(deliveries[2]?.tenant, "acme");
  assert.equal(deliveries[2]?.subject, "events.orders.flaky");
  assert.equal(deliveries[2]?.eventId, "flaky-1");
  assert.equal(deliveries[2]?.headers["Mw-Tenant"], "acme");
});

test("stop() drains: in-flight events are acked, none lost or redelivered to another replica", { timeout: 30_000 }, async () => {
  const event = orderEvent("draining");
  const release = gate();
  const allInFlight = gate();
  const startedA: number[] = [];
  const finishedA: number[] = [];
  const replicaA = await startEventConsumer({
    nc: await connectForTest(servers), consumerActor: "billing", spec: spec(event),
    process: async (payload) => {
      startedA.push((payload as { n: number }).n);
      if (startedA.length === 5) allInFlight.open();
      await release.opened;
      finishedA.push((payload as { n: number }).n);
    },
  });
  await publishMany(event, 5);
  await allInFlight.opened;
  const processedB: number[] = [];
  const replicaB = await startEventConsumer({
    nc: await connectForTest(servers), consumerActor: "billing", spec: spec(event),
    process: async (payload) => {
      processedB.push((payload as { n: number }).n);
    },
  });
  const stopping = replicaA.stop().then(() => "stopped");
  // Proving a negative needs a bounded wait: stop() must still be waiting for the handlers.
  const early = await Promise.race([stopping, simulateWork(300).then(() => "still draining")]);
  assert.equal(early, "still draining");
  release.open();
  await stopping;
  assert.deepEqual(finishedA.sort(), [0, 1, 2, 3, 4]);
  assert.deepEqual(await replicaA.info(), { durable: "billing--draining", pending: 0, ackPending: 0, redelivered: 0 });
  await replicaB.stop();
  assert.deepEqual(processedB, []);
});

test("backpressure: with maxAckPending 4 no more than 4 events are in flight", { timeout: 30_000 }, async () => {
  const event = orderEvent("throttled");
  await publishMany(event, 16);
  let running = 0;
  let maxRunning = 0;
  const ackPendingSeen: number[] = [];
  const recorder = eventRecorder();
  let consumer: EventConsumer | undefined;
  const started = gate();
  consumer = await startEventConsumer({
    nc, consumerActor: "billing", spec: spec(event, { maxAckPending: 4, batchSize: 32 }), onEvent: recorder.listener,
    process: async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await started.opened;
      ackPendingSeen.push((await consumer!.info()).ackPending);
      await simulateWork(10);
      running--;
    },
  });
  started.open();
  await recorder.until("processed", 16);
  await consumer.stop();
  assert.equal(maxRunning, 4, "the limit was reached, and not exceeded");
  assert.ok(ackPendingSeen.every((count) => count <= 4), `ackPending seen: ${ackPendingSeen.join(",")}`);
  assert.ok(ackPendingSeen.some((count) => count === 4));
});

test("a throwing onEvent listener does not stop consumption", { timeout: 30_000 }, async () => {
  const event = orderEvent("listened");
  const threeSeen = gate();
  let calls = 0;
  const consumer = await startEventConsumer({
    nc, consumerActor: "billing", spec: spec(event),
    onEvent: () => {
      throw new Error("listener bug");
    },
    process: async () => {
      if (++calls === 3) threeSeen.open();
    },
  });
  await publishMany(event, 3);
  await threeSeen.opened;
  await consumer.stop();
  assert.equal(calls, 3);
  assert.deepEqual(await consumer.info(), { durable: "billing--listened", pending: 0, ackPending: 0, redelivered: 0 });
});

test("a changed spec updates the durable consumer on the next start", async () => {
  const event = orderEvent("tuned");
  const first = await startEventConsumer({ nc, consumerActor: "billing", spec: spec(event, { maxAckPending: 8 }), process: async () => undefined });
  await first.stop();
  const second = await startEventConsumer({ nc, consumerActor: "billing", spec: spec(event, { maxAckPending: 16, ackWaitMs: 5000, maxDeliver: 2 }), process: async () => undefined });
  await second.stop();
  const { config } = await jsm.consumers.info("EVENTS_ORDERS", "billing--tuned");
  assert.equal(config.max_ack_pending, 16);
  assert.equal(config.ack_wait, 5000 * 1_000_000);
  assert.equal(config.max_deliver, -1, "unlimited on the server; the consumer dead-letters at maxDeliver");
  assert.equal(config.filter_subject, "events.orders.tuned");
});

test("bad input: a non-event subject, a mismatched producer or an invalid spec is refused", async () => {
  const process = async () => undefined;
  const reject = (promise: Promise<unknown>) => assert.rejects(promise, (error) => hasCode(error, "INTERNAL"));
  await reject(startEventConsumer({ nc, consumerActor: "billing", spec: spec({ subject: "orders.placed", schema: z.object({ n: z.number() }) }), process }));
  await reject(startEventConsumer({ nc, consumerActor: "billing", producerActor: "tenants", spec: spec(orderEvent("placed")), process }));
  await reject(startEventConsumer({ nc, consumerActor: "billing", spec: spec(orderEvent("placed"), { maxDeliver: 0 }), process }));
  await reject(startEventConsumer({ nc, consumerActor: "billing", spec: spec(orderEvent("placed"), { batchSize: 1.5 }), process }));
  await reject(startEventConsumer({ nc, consumerActor: "billing", spec: spec(orderEvent("placed"), { backoffMs: [100, -1] }), process }));
});
