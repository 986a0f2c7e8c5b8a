import { test } from "node:test";
import assert from "node:assert/strict";
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JsMsg } from "@nats-io/jetstream";
import { headers as natsHeaders } from "@nats-io/nats-core";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { ackSubjectNumber, Delivery, readHeaderText } from "./read-delivery.ts";
import { connectForTest } from "./test-support.ts";

const empty = () => ({ namedEventId: "", msgId: "", tenant: "", traceparent: "" });

test("readHeaderText reads the four delivery headers as nats-core would: exact names, first occurrence, values trimmed", () => {
  const cases: Array<[string, ReturnType<typeof empty>]> = [
    ["NATS/1.0\r\nNats-Msg-Id: e-1\r\nMw-Tenant: acme\r\ntraceparent: 00-ab-cd-01\r\n\r\n", { namedEventId: "", msgId: "e-1", tenant: "acme", traceparent: "00-ab-cd-01" }],
    ["NATS/1.0\r\nMw-Event-Id: e-1\r\nNats-Msg-Id:dlq:e-1:7\r\n\r\n", { namedEventId: "e-1", msgId: "dlq:e-1:7", tenant: "", traceparent: "" }],
    ["NATS/1.0\r\nMw-Tenant:  first  \r\nMw-Tenant: second\r\n\r\n", { ...empty(), tenant: "first" }],
    ["NATS/1.0\r\nmw-tenant: lower\r\nX-Other: Mw-Tenant: no\r\n\r\n", empty()],
    ["NATS/1.0\r\n\r\nno colon here\r\nNats-Msg-Id: a:b:c\r\n\r\n", { ...empty(), msgId: "a:b:c" }],
    ["NATS/1.0\r\nNats-Msg-Id: last-line-without-break", { ...empty(), msgId: "last-line-without-break" }],
    ["", empty()],
  ];
  for (const [text, expected] of cases) {
    const fields = empty();
    readHeaderText(text, fields);
    assert.deepEqual(fields, expected, JSON.stringify(text));
  }
});

test("ackSubjectNumber reads the delivery count and stream sequence of both ack subject forms, NaN for anything else", () => {
  const v1 = "$JS.ACK.EVENTS_ORDERS.billing--placed.3.1042.17.1732900000000000000.5";
  const v2 = "$JS.ACK.hub.ACCHASH.EVENTS_ORDERS.billing--placed.2.77.9.1732900000000000000.0.token";
  assert.equal(ackSubjectNumber(v1, 0), 3);
  assert.equal(ackSubjectNumber(v1, 1), 1042);
  assert.equal(ackSubjectNumber(v2, 0), 2);
  assert.equal(ackSubjectNumber(v2, 1), 77);
  assert.equal(ackSubjectNumber(v2.slice(0, v2.lastIndexOf(".")), 1), 77);
  for (const bad of ["", "$JS.ACK.S.C.1.2.3.4", "$JS.ACK.S.C.x.2.3.4.5", "$JS.ACK.S.C..2.3.4.5", "_INBOX.a.b.c.d.e.f.g.h", "$JS.ACK.S.C.1.2.3.4.5.6"]) {
    assert.ok(Number.isNaN(ackSubjectNumber(bad, 0)) || Number.isNaN(ackSubjectNumber(bad, 1)), bad);
  }
});

test("a delivery read from a real JetStream message agrees with nats-core's headers and jetstream's info, without decoding the headers", { timeout: 30_000 }, async () => {
  const servers = await useTestServers();
  const nc = await connectForTest(servers);
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  await jsm.streams.add({ name: "READ_DELIVERY", subjects: ["read-delivery.>"] });
  await jsm.consumers.add("READ_DELIVERY", { durable_name: "reader", ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All });
  const sent = natsHeaders();
  sent.set("Mw-Tenant", "acme");
  sent.set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  sent.set("Mw-Event-Id", "order-1");
  sent.set("X-Extra", "kept");
  await js.publish("read-delivery.placed", new TextEncoder().encode("{}"), { msgID: "dlq:order-1:4", headers: sent });
  await js.publish("read-delivery.placed", new TextEncoder().encode("{}"));
  const consumer = await js.consumers.get("READ_DELIVERY", "reader");
  const first = await consumer.next({ expires: 5000 });
  assert.ok(first);
  first.nak();
  const messages: JsMsg[] = [];
  for (let i = 0; i < 2; i++) {
    const message = await consumer.next({ expires: 5000 });
    assert.ok(message);
    messages.push(message);
  }
  const redelivered = messages.find((message) => message.seq === first.seq)!;
  const bare = messages.find((message) => message.seq !== first.seq)!;

  const delivery = new Delivery(redelivered, 1234);
  // The header block was read without nats-core's decode (its lazy record is still unbuilt).
  assert.equal((redelivered as unknown as { msg: { _headers?: unknown } }).msg._headers, undefined);
  assert.equal(delivery.eventId, "order-1");
  assert.equal(delivery.copy, true);
  assert.equal(delivery.tenant, "acme");
  assert.equal(delivery.traceparent, redelivered.headers?.get("traceparent"));
  assert.equal(delivery.deliveryCount, redelivered.info.deliveryCount);
  assert.equal(delivery.deliveryCount, 2);
  assert.equal(delivery.streamSequence, redelivered.seq);
  assert.equal(delivery.subject, "read-delivery.placed");
  assert.equal(delivery.deadline, 1234);
  assert.deepEqual(delivery.headers, {
    "Mw-Tenant": "acme", traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "Mw-Event-Id": "order-1", "X-Extra": "kept", "Nats-Msg-Id": "dlq:order-1:4",
  });

  const withoutHeaders = new Delivery(bare, 0);
  assert.equal(withoutHeaders.eventId, `READ_DELIVERY:${bare.seq}`);
  assert.equal(withoutHeaders.copy, false);
  assert.equal(withoutHeaders.tenant, "");
  assert.equal(withoutHeaders.deliveryCount, 1);
  assert.deepEqual(withoutHeaders.headers, {});

  // A message that does not expose its bytes is read through the public API, with the same result.
  const publicOnly = {
    subject: redelivered.subject, headers: redelivered.headers, info: redelivered.info, seq: redelivered.seq,
  } as unknown as JsMsg;
  const viaPublicApi = new Delivery(publicOnly, 1234);
  for (const field of ["eventId", "copy", "tenant", "traceparent", "deliveryCount", "streamSequence", "subject"] as const) {
    assert.equal(viaPublicApi[field], delivery[field], field);
  }
  for (const message of messages) message.ack();
  await jsm.streams.delete("READ_DELIVERY");
});
