import { EventEmitter, once } from "node:events";
import { test } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import type { Msg } from "@nats-io/nats-core";
import { pino, type Logger } from "pino";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { MeshClient, actorClient } from "../index.ts";
import { fixtureActor, fixtureContract } from "../testing/fixture-actors.ts";
import { startInProcess } from "../testing/replicas.ts";
import { FreeSlotSubscriptions, MAX_FREE_SLOT_SUBSCRIPTIONS } from "./free-slot-subscriptions.ts";

const servers = await useTestServers();

/** A pino logger whose lines the test can read and wait for. */
function collectingLog(): { log: Logger; lines: Array<Record<string, unknown>>; logged: EventEmitter } {
  const lines: Array<Record<string, unknown>> = [];
  const logged = new EventEmitter();
  const sink = new Writable({
    write(chunk, _encoding, done) {
      const line = JSON.parse(String(chunk)) as Record<string, unknown>;
      lines.push(line);
      logged.emit("line", line);
      done();
    },
  });
  const log: Logger = pino({ level: "error" }, sink);
  return { log, lines, logged };
}

/** Queue subscriptions the server holds for a connection on a subject (what routing sees). */
async function serverSubscriptions(connectionName: string, subject: string): Promise<number> {
  const response = await fetch(`${servers.nats.monitorUrl}/connz?subs=detail&limit=1024`);
  const connz = await response.json() as { connections: Array<{ name?: string; subscriptions_list_detail?: Array<{ subject: string; qgroup?: string }> }> };
  const connection = connz.connections.find((c) => c.name === connectionName);
  return connection?.subscriptions_list_detail?.filter((s) => s.subject === subject && s.qgroup).length ?? 0;
}

test("no free-slot subscription until a request has had to queue; then one per free slot, each taking one request", async () => {
  const nc = await servers.connectNats();
  const publisher = await servers.connectNats();
  const received: Msg[] = [];
  const { log } = collectingLog();
  const slots = new FreeSlotSubscriptions({ nc, queue: "free-slot-test", log, endpoints: [{ subject: "free.slot.one", onMessage: (msg) => received.push(msg) }] });

  slots.requestFinished(3);
  assert.equal(slots.open, 0, "a replica that never queued opens none");

  slots.requestQueued();
  assert.equal(slots.open, 0, "a request that queues frees no slot");
  slots.requestFinished(3);
  assert.equal(slots.open, 3);
  await nc.flush();
  for (let n = 0; n < 5; n++) publisher.publish("free.slot.one", String(n));
  await publisher.flush();
  await nc.flush(); // the server delivers in order: every message sent before this round trip has arrived
  assert.deepEqual(received.map((msg) => msg.string()), ["0", "1", "2"], "each subscription took exactly one message; nobody held the other two");
  assert.equal(slots.open, 0);

  slots.requestFinished(2);
  assert.equal(slots.open, 2, "a finished request tops up to the free slots");
  slots.requestFinished(0);
  slots.requestFinished(-1);
  slots.requestFinished(Number.NaN);
  assert.equal(slots.open, 2, "subscriptions already open stay (closing one could race a delivery); no count opens fewer or more");

  await slots.drain();
  assert.equal(slots.open, 0);
  slots.requestQueued();
  slots.requestFinished(5);
  assert.equal(slots.open, 0, "a drained replica opens no more");
});

test("once the busy window has passed since a request last queued, free slots open no subscription", async () => {
  const nc = await servers.connectNats();
  const { log } = collectingLog();
  const slots = new FreeSlotSubscriptions({ nc, queue: "free-slot-test", log, endpoints: [{ subject: "free.slot.window", onMessage: () => {} }], busyWindowMs: 0 });
  slots.requestQueued();
  slots.requestFinished(4);
  assert.equal(slots.open, 0);
});

test("free-slot subscriptions per endpoint are capped", async () => {
  const nc = await servers.connectNats();
  const { log } = collectingLog();
  const slots = new FreeSlotSubscriptions({ nc, queue: "free-slot-test", log, endpoints: [{ subject: "free.slot.a", onMessage: () => {} }, { subject: "free.slot.b", onMessage: () => {} }] });
  slots.requestQueued();
  slots.requestFinished(500);
  assert.equal(slots.open, 2 * MAX_FREE_SLOT_SUBSCRIPTIONS);
  await slots.drain();
});

test("a subject the user may not subscribe to: logged once, no more subscriptions opened, no crash", async () => {
  // A service user may only call actors; it may not subscribe to an actor's request subject.
  const nc = await servers.connectNats("demo-service");
  const { log, lines, logged } = collectingLog();
  const received: Msg[] = [];
  const slots = new FreeSlotSubscriptions({ nc, queue: "fixture", log, endpoints: [{ subject: "fixture.echo", onMessage: (msg) => received.push(msg) }] });
  const failureLogged = once(logged, "line");
  slots.requestQueued();
  slots.requestFinished(2);
  assert.equal(slots.open, 2);
  await failureLogged;
  await nc.flush(); // the server has answered both subscriptions by now
  assert.equal(slots.open, 0);
  assert.equal(lines.length, 1, "logged once");
  assert.equal(received.length, 0);
  assert.equal(lines[0]?.msg, "free-slot subscription failed");
  assert.equal(lines[0]?.subject, "fixture.echo");
  assert.ok(!nc.isClosed(), "the connection is still up");
  slots.requestQueued();
  slots.requestFinished(2);
  assert.equal(slots.open, 0, "stopped after the refusal");
});

test("a replica whose requests queued holds one extra queue subscription per free slot on each endpoint", async () => {
  const replica = await startInProcess(fixtureActor, servers, { instanceId: "slots", maxInFlight: 2 });
  const connectionName = `fixture-${replica.instanceId}`;
  const nc = await servers.connectNats();
  const mesh = new MeshClient(nc, { service: "tests" });
  const fixture = actorClient(mesh, fixtureContract);
  servers.onCleanup(() => mesh.close());
  // Proof that the server has read what the replica sent before: a discovery ping it answers.
  const replicaCaughtUp = () => nc.request(`$SRV.PING.fixture.${replica.instanceId}`, undefined, { timeout: 2000 });

  await replicaCaughtUp();
  assert.equal(await serverSubscriptions(connectionName, "fixture.slow"), 1, "idle: only the permanent subscription");

  // Three requests for two slots: the third queues behind the others.
  const replies = await Promise.all([1, 2, 3].map(() => fixture.slow({ ms: 20 }, { tenant: "acme", maxAttempts: 1 })));
  assert.deepEqual(replies.map((reply) => reply.done), [true, true, true]);
  await replicaCaughtUp();
  assert.equal(await serverSubscriptions(connectionName, "fixture.slow"), 3, "the permanent one and one per free slot");
  assert.equal(await serverSubscriptions(connectionName, "fixture.echo"), 3, "on every endpoint");
  assert.equal((await fixture.echo({ text: "served" }, { tenant: "acme", maxAttempts: 1 })).text, "served");
});
