/** The JetStream behaviour the runtime's events rely on, against a real nats-server. */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import type { NatsConnection } from "@nats-io/transport-node";
import { AckPolicy, jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager, type JsMsg } from "@nats-io/jetstream";
import { nanos } from "@nats-io/nats-core";
import { useTestServers } from "../testing/test-servers.ts";

const servers = await useTestServers();
const nc: NatsConnection = await servers.connectNats();
const jsm: JetStreamManager = await jetstreamManager(nc);
const js: JetStreamClient = jetstream(nc);
after(() => nc.close());

async function fetchOne(stream: string, durable: string, expiresMs = 3000): Promise<JsMsg | null> {
  const consumer = await js.consumers.get(stream, durable);
  return consumer.next({ expires: expiresMs });
}

test("a stream is created, then updated in place", async () => {
  await jsm.streams.add({ name: "COMPAT_A", subjects: ["compat.a.>"], duplicate_window: nanos(60_000) });
  const updated = await jsm.streams.update("COMPAT_A", { subjects: ["compat.a.>", "compat.a2.>"], max_msgs: 1000 });
  assert.deepEqual(updated.config.subjects, ["compat.a.>", "compat.a2.>"]);
  assert.equal(updated.config.max_msgs, 1000);
});

test("publishes with the same msgID inside the window are stored once", async () => {
  await jsm.streams.add({ name: "COMPAT_DEDUP", subjects: ["compat.dedup"] });
  const first = await js.publish("compat.dedup", "x", { msgID: "event-1" });
  const again = await js.publish("compat.dedup", "x", { msgID: "event-1" });
  assert.equal(first.duplicate, false);
  assert.equal(again.duplicate, true);
  assert.equal((await jsm.streams.info("COMPAT_DEDUP")).state.messages, 1);
});

test("a durable pull consumer: ack removes, nak with delay redelivers later", async () => {
  await jsm.streams.add({ name: "COMPAT_NAK", subjects: ["compat.nak"] });
  await jsm.consumers.add("COMPAT_NAK", { durable_name: "worker", ack_policy: AckPolicy.Explicit, ack_wait: nanos(30_000) });
  await js.publish("compat.nak", "one");
  const first = await fetchOne("COMPAT_NAK", "worker");
  assert.equal(first?.info.deliveryCount, 1);
  const nakAt = Date.now();
  first!.nak(300);
  const second = await fetchOne("COMPAT_NAK", "worker");
  assert.ok(Date.now() - nakAt >= 250, "redelivered only after the nak delay");
  assert.equal(second?.info.deliveryCount, 2);
  assert.equal(second?.redelivered, true);
  await second!.ackAck();
  assert.equal((await jsm.consumers.info("COMPAT_NAK", "worker")).num_ack_pending, 0);
});

test("an unacked message is redelivered after ack_wait, and max_deliver stops redelivery", async () => {
  await jsm.streams.add({ name: "COMPAT_WAIT", subjects: ["compat.wait"] });
  await jsm.consumers.add("COMPAT_WAIT", {
    durable_name: "slow", ack_policy: AckPolicy.Explicit, ack_wait: nanos(400), max_deliver: 2,
  });
  await js.publish("compat.wait", "ignored");
  const first = await fetchOne("COMPAT_WAIT", "slow");
  const second = await fetchOne("COMPAT_WAIT", "slow");
  assert.equal(first?.info.deliveryCount, 1);
  assert.equal(second?.info.deliveryCount, 2);
  const third = await fetchOne("COMPAT_WAIT", "slow", 1500);
  assert.equal(third, null, "not delivered a third time");
});

test("two clients of one durable consumer share the messages", async () => {
  await jsm.streams.add({ name: "COMPAT_SHARE", subjects: ["compat.share"] });
  await jsm.consumers.add("COMPAT_SHARE", { durable_name: "shared", ack_policy: AckPolicy.Explicit, max_ack_pending: 100 });
  for (let i = 0; i < 10; i++) await js.publish("compat.share", String(i));
  const [a, b] = [await js.consumers.get("COMPAT_SHARE", "shared"), await js.consumers.get("COMPAT_SHARE", "shared")];
  const seen: string[] = [];
  for (const consumer of [a, b]) {
    const batch = await consumer.fetch({ max_messages: 5, expires: 2000 });
    for await (const message of batch) {
      seen.push(message.string());
      message.ack();
    }
  }
  assert.deepEqual(seen.sort(), ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
});
