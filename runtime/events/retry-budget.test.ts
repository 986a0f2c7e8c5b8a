import { test } from "node:test";
import assert from "node:assert/strict";
import { z } from "zod";
import { jetstreamManager } from "@nats-io/jetstream";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { MeshError } from "../errors.ts";
import type { ErrorCode } from "../../protocol/errors.ts";
import { ensureEventStream } from "./ensure-streams.ts";
import { createEventPublisher } from "./event-publisher.ts";
import { startEventConsumer } from "./event-consumer.ts";
import { FaultCounts } from "./handle-delivery.ts";
import { classifyFailure } from "./retry-policy.ts";
import { connectForTest, eventRecorder, readStream } from "./test-support.ts";

/** What the driver throws when no server answers (recognised by name, as a second driver copy would be). */
function selectionTimeout(): Error {
  return Object.assign(new Error("server selection timed out after 1500 ms"), { name: "MongoServerSelectionError" });
}

test("failures are terminal, outages (not counted) or faults (counted), by code and stage", () => {
  const cases: Array<[unknown, "handler" | "dedupe", string]> = [
    ...(["BAD_REQUEST", "NOT_FOUND", "CONFLICT", "FORBIDDEN", "OVER_BUDGET"] as ErrorCode[]).map((code) => [new MeshError(code, "x"), "handler", "terminal"] as [unknown, "handler", string]),
    ...(["UNAVAILABLE", "OVERLOADED", "RATE_LIMITED"] as ErrorCode[]).map((code) => [new MeshError(code, "x"), "handler", "outage"] as [unknown, "handler", string]),
    [new MeshError("INTERNAL", "x"), "handler", "fault"],
    [new MeshError("TIMEOUT", "x"), "handler", "fault"],
    [new Error("a bug"), "handler", "fault"],
    [selectionTimeout(), "dedupe", "outage"],
    [selectionTimeout(), "handler", "outage"],
    [new MeshError("UNAVAILABLE", "x"), "dedupe", "outage"],
    [new Error("a bug in the lookup"), "dedupe", "fault"],
    [new MeshError("NOT_FOUND", "x"), "dedupe", "fault"],
  ];
  for (const [error, stage, kind] of cases) assert.equal(classifyFailure(error, stage), kind, `${String(error)} at ${stage}`);
});

test("fault counts are per sequence, forgotten on success, and bounded (the oldest goes first)", () => {
  const counts = new FaultCounts(2);
  assert.deepEqual([counts.add(1), counts.add(1), counts.add(2)], [1, 2, 1]);
  counts.forget(1);
  assert.equal(counts.get(1), 0);
  counts.add(3);
  counts.add(4);
  assert.deepEqual([counts.get(2), counts.get(3), counts.get(4)], [0, 1, 1]);
});

const servers = await useTestServers();
const nc = await connectForTest(servers);
const jsm = await jetstreamManager(nc);
await ensureEventStream(jsm, "orders");
const publisher = createEventPublisher(nc, { actor: "orders" });

function orderEvent(name: string) {
  return { subject: `events.orders.${name}`, schema: z.object({ n: z.number().int() }) };
}

/** A consumer (maxDeliver 3) whose handler fails as `failures` says, one entry per delivery, then succeeds. */
async function runThrough(name: string, failures: ReadonlyArray<ErrorCode>) {
  const event = orderEvent(name);
  const recorder = eventRecorder();
  let calls = 0;
  const consumer = await startEventConsumer({
    nc, consumerActor: "billing", spec: { event, handler: async () => undefined, maxDeliver: 3, backoffMs: [5] }, onEvent: recorder.listener,
    process: async () => {
      const code = failures[calls++];
      if (code) throw new MeshError(code, `${code.toLowerCase()} on call ${calls}`);
    },
  });
  await publisher.publish(event, { n: 1 }, { eventId: `${name}-1` });
  const outcome = await Promise.race([recorder.until("processed").then(() => "processed"), recorder.until("dead-lettered").then(() => "dead-lettered")]);
  await consumer.stop();
  const deadLetters = (await readStream(jsm, "DLQ_BILLING").catch(() => [])).filter((m) => m.subject === `dlq.billing.${event.subject}`);
  return { outcome, calls, deadLetters, recorder };
}

test("an outage longer than the delivery budget (8 UNAVAILABLE deliveries, maxDeliver 3) is retried until it ends, then processed, nothing dead-lettered", { timeout: 30_000 }, async () => {
  const run = await runThrough("outage", Array(8).fill("UNAVAILABLE"));
  assert.equal(run.outcome, "processed");
  assert.equal(run.calls, 9);
  assert.equal(run.deadLetters.length, 0);
});

test("outages between faults do not use the budget: 2 faults among 6 outages still get the event processed", { timeout: 30_000 }, async () => {
  const run = await runThrough("mixed", ["UNAVAILABLE", "INTERNAL", "OVERLOADED", "RATE_LIMITED", "UNAVAILABLE", "TIMEOUT", "UNAVAILABLE", "UNAVAILABLE"]);
  assert.equal(run.outcome, "processed");
  assert.equal(run.calls, 9);
  assert.equal(run.deadLetters.length, 0);
});

test("faults still use the budget: the third INTERNAL, after any number of outages, dead-letters the event", { timeout: 30_000 }, async () => {
  const run = await runThrough("faulty", ["UNAVAILABLE", "INTERNAL", "UNAVAILABLE", "UNAVAILABLE", "INTERNAL", "UNAVAILABLE", "INTERNAL", "UNAVAILABLE"]);
  assert.equal(run.outcome, "dead-lettered");
  assert.equal(run.calls, 7);
  assert.equal(run.deadLetters.length, 1);
  assert.equal(run.deadLetters[0]!.header.get("Mw-Dlq-Reason"), "max deliveries (handler: INTERNAL internal on call 7)");
  assert.equal(run.deadLetters[0]!.header.get("Mw-Dlq-Delivery-Count"), "7");
});
