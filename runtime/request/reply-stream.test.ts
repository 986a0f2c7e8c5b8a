import assert from "node:assert/strict";
import { test } from "node:test";
import { createInbox, type Msg } from "@nats-io/nats-core";
import { STREAM_HEADERS } from "../../protocol/llm.ts";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { hasCode } from "../errors.ts";
import { parseStreamWindow, ReplyStreamSender } from "./reply-stream.ts";

const servers = await useTestServers();
const nc = await servers.connectNats();

function caller() {
  const inbox = createInbox();
  const received: Msg[] = [];
  let arrived: () => void = () => {};
  nc.subscribe(inbox, { callback: (_error, msg) => { received.push(msg); arrived(); } });
  return {
    inbox,
    received,
    next: (count: number) => new Promise<void>((resolve) => {
      arrived = () => { if (received.length >= count) resolve(); };
      arrived();
    }),
  };
}

test("chunks carry their sequence and the control subject; a full window waits for the caller's ack", async () => {
  const side = caller();
  const sender = new ReplyStreamSender({ nc, replyTo: side.inbox, window: 2, deadlineSignal: new AbortController().signal });
  await sender.send({ content: "a" });
  await sender.send({ content: "b" });
  let third = false;
  const sending = sender.send({ content: "c" }).then(() => { third = true; });
  await side.next(2);
  assert.deepEqual(side.received.map((msg) => msg.headers?.get(STREAM_HEADERS.seq)), ["1", "2"]);
  assert.equal(third, false, "the third chunk waits: the window of 2 is full");
  side.received[1]!.respond(JSON.stringify({ ack: 2 }));
  await sending;
  await side.next(3);
  assert.equal(side.received[2]!.headers?.get(STREAM_HEADERS.seq), "3");
  sender.close();
});

test("a caller that never acknowledges is taken as gone after the stall bound; a cancel stops at once", async () => {
  const silent = caller();
  const stalled = new ReplyStreamSender({ nc, replyTo: silent.inbox, window: 1, deadlineSignal: new AbortController().signal, stallMs: 200 });
  await stalled.send({ content: "a" });
  const refused = await stalled.send({ content: "b" }).then(() => undefined, (error: unknown) => error);
  assert.ok(hasCode(refused, "TIMEOUT"));
  assert.equal(stalled.signal.aborted, true, "the provider call's signal is aborted");
  stalled.close();

  const quitter = caller();
  const cancelled = new ReplyStreamSender({ nc, replyTo: quitter.inbox, window: undefined, deadlineSignal: new AbortController().signal });
  await cancelled.send({ content: "a" });
  await quitter.next(1);
  const aborted = new Promise((resolve) => cancelled.signal.addEventListener("abort", resolve, { once: true }));
  quitter.received[0]!.respond(JSON.stringify({ cancel: true }));
  await aborted;
  assert.ok(hasCode(cancelled.signal.reason, "TIMEOUT"));
  cancelled.close();
});

test("the window header: absent is no flow control, 1..1024 is a window, anything else BAD_REQUEST", () => {
  assert.equal(parseStreamWindow(""), undefined);
  assert.equal(parseStreamWindow("64"), 64);
  for (const bad of ["0", "-1", "1025", "1.5", "many"]) assert.throws(() => parseStreamWindow(bad), (error) => hasCode(error, "BAD_REQUEST"), bad);
});
