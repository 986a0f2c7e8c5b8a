/** connectNats sends what one event-loop turn wrote in one socket write, in order, and reconnects the same way. */
import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { after, test } from "node:test";
import type { NatsConnection } from "@nats-io/nats-core";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { connectNats } from "./connect-nats.ts";

const servers = await useTestServers();
const listener = await servers.connectNats();
const connections: NatsConnection[] = [listener];
after(() => Promise.all(connections.map((nc) => nc.close())));

async function open(): Promise<NatsConnection> {
  const nc = await connectNats({ ...servers.natsOptions(), maxReconnectAttempts: -1, reconnectTimeWait: 50 });
  connections.push(nc);
  return nc;
}

/** Counts the writes that reach the socket's underlying handle (a corked socket hands them over together). */
function socketOf(nc: NatsConnection): Socket {
  return (nc as unknown as { protocol: { transport: { socket: Socket } } }).protocol.transport.socket;
}

function countSocketWrites(nc: NatsConnection): { readonly count: number } {
  const socket = socketOf(nc);
  const counter = { count: 0 };
  const writable = socket as unknown as { _write: (...args: unknown[]) => void; _writev: (...args: unknown[]) => void };
  const write = writable._write.bind(socket);
  const writev = writable._writev.bind(socket);
  writable._write = (...args) => {
    counter.count++;
    write(...args);
  };
  writable._writev = (...args) => {
    counter.count++;
    writev(...args);
  };
  return counter;
}

/** Publishes `count` messages, each from its own microtask run (nats-core flushes after each). */
async function publishAcrossMicrotaskRuns(nc: NatsConnection, subject: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    nc.publish(subject, String(i));
    await new Promise<void>((resolve) => queueMicrotask(resolve));
    await new Promise<void>((resolve) => queueMicrotask(resolve));
  }
}

/** Subscribes (confirmed by the server) and resolves with the first `count` payloads. */
async function receive(subject: string, count: number): Promise<{ received: Promise<string[]> }> {
  const sub = listener.subscribe(subject, { max: count });
  await listener.flush();
  const received = (async () => {
    const seen: string[] = [];
    for await (const message of sub) seen.push(message.string());
    return seen;
  })();
  return { received };
}

test("messages published in several microtask runs of one turn leave in one socket write, in order", async () => {
  const nc = await open();
  const { received } = await receive("coalesce.order", 5);
  const writes = countSocketWrites(nc);
  await publishAcrossMicrotaskRuns(nc, "coalesce.order", 5);
  assert.equal(writes.count, 0, "nothing is written before the turn ends");
  await nc.flush();
  assert.deepEqual(await received, ["0", "1", "2", "3", "4"]);
  // The five messages went in one write; the flush's PING in a later one.
  assert.ok(writes.count <= 2, `socket writes: ${writes.count}`);
});

test("after a reconnect the connection still coalesces and still delivers", async () => {
  const nc = await open();
  const reconnected = (async () => {
    for await (const status of nc.status()) if (status.type === "reconnect") return;
  })();
  socketOf(nc).destroy();
  await reconnected;
  const { received } = await receive("coalesce.reconnect", 3);
  const writes = countSocketWrites(nc);
  await publishAcrossMicrotaskRuns(nc, "coalesce.reconnect", 3);
  assert.equal(writes.count, 0);
  await nc.flush();
  assert.deepEqual(await received, ["0", "1", "2"]);
});
