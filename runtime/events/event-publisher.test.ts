import { test } from "node:test";
import assert from "node:assert/strict";
import { z } from "zod";
import { jetstreamManager } from "@nats-io/jetstream";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { hasCode, isMeshError } from "../errors.ts";
import { ensureEventStream } from "./ensure-streams.ts";
import { createEventPublisher } from "./event-publisher.ts";
import { connectForTest, readStream } from "./test-support.ts";

const servers = await useTestServers();
const nc = await connectForTest(servers);
const jsm = await jetstreamManager(nc);
await ensureEventStream(jsm, "orders");

const Placed = { subject: "events.orders.placed", schema: z.object({ orderId: z.string(), amount: z.number().int().default(0) }) };
const TenantUpdated = { subject: "events.tenants.updated", schema: z.object({ tenantId: z.string() }) };
const publisher = createEventPublisher(nc, { actor: "orders", timeoutMs: 2000 });
const TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

test("publish stores the validated payload with the event headers and Nats-Msg-Id = event id", async () => {
  const result = await publisher.publish(Placed, { orderId: "o-1" }, { eventId: "evt-1", tenant: "acme", traceparent: TRACEPARENT, service: "shop" });
  assert.deepEqual(result, { eventId: "evt-1", duplicate: false });
  const [stored] = (await readStream(jsm, "EVENTS_ORDERS")).filter((message) => message.header?.get("Nats-Msg-Id") === "evt-1");
  assert.ok(stored);
  assert.equal(stored.subject, "events.orders.placed");
  assert.deepEqual(stored.json(), { orderId: "o-1", amount: 0 });
  assert.equal(stored.header.get("Mw-Event-Id"), "", "the msg id alone names the event");
  assert.equal(stored.header.get("Mw-Tenant"), "acme");
  assert.equal(stored.header.get("traceparent"), TRACEPARENT);
  assert.equal(stored.header.get("Mw-Service"), "shop");
});

test("an event id is generated when absent", async () => {
  const { eventId } = await publisher.publish(Placed, { orderId: "o-2" });
  assert.match(eventId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});

test("the same event id published twice is stored once", async () => {
  const before = (await jsm.streams.info("EVENTS_ORDERS")).state.messages;
  const first = await publisher.publish(Placed, { orderId: "o-3" }, { eventId: "evt-3" });
  const again = await publisher.publish(Placed, { orderId: "o-3" }, { eventId: "evt-3" });
  assert.equal(first.duplicate, false);
  assert.equal(again.duplicate, true);
  assert.equal((await jsm.streams.info("EVENTS_ORDERS")).state.messages, before + 1);
});

test("bad input: another actor's event or an invalid payload is the producer's bug (INTERNAL), nothing stored", async () => {
  const before = (await jsm.streams.info("EVENTS_ORDERS")).state.messages;
  await assert.rejects(publisher.publish(TenantUpdated, { tenantId: "acme" }), (error) => hasCode(error, "INTERNAL"));
  await assert.rejects(publisher.publish({ subject: "events.orders", schema: z.unknown() }, {}), (error) => hasCode(error, "INTERNAL"));
  await assert.rejects(publisher.publish(Placed, { orderId: 42 }), (error) => hasCode(error, "INTERNAL") && /orderId/.test((error as Error).message));
  assert.equal((await jsm.streams.info("EVENTS_ORDERS")).state.messages, before);
});

test("a missing stream gives UNAVAILABLE with a retry hint", async () => {
  const unstreamed = createEventPublisher(nc, { actor: "ghosts", timeoutMs: 500 });
  const error = await unstreamed.publish({ subject: "events.ghosts.seen", schema: z.object({}) }, {}).catch((caught: unknown) => caught);
  assert.ok(isMeshError(error) && error.code === "UNAVAILABLE" && error.retryAfterMs !== undefined, String(error));
});

test("a closed connection gives UNAVAILABLE, not a crash", async () => {
  const closing = await connectForTest(servers);
  const closedPublisher = createEventPublisher(closing, { actor: "orders", timeoutMs: 500 });
  await closing.close();
  await assert.rejects(closedPublisher.publish(Placed, { orderId: "o-4" }), (error) => hasCode(error, "UNAVAILABLE"));
});
