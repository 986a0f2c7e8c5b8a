import { test } from "node:test";
import assert from "node:assert/strict";
import { z } from "zod";
import { jetstreamManager } from "@nats-io/jetstream";
import { MongoClient } from "mongodb";
import { actorNames } from "../../actors/index.ts";
import { MeshError } from "../../runtime/errors.ts";
import { ensureEventStream } from "../../runtime/events/ensure-streams.ts";
import { createEventPublisher } from "../../runtime/events/event-publisher.ts";
import { startEventConsumer } from "../../runtime/events/event-consumer.ts";
import { mongoDedupe } from "../../runtime/events/processed-events.ts";
import { eventRecorder } from "../../runtime/events/test-support.ts";
import { OPERATOR_USER } from "../creds/identity-plan.ts";
import { useTestServers } from "../testing/test-servers.ts";
import { CHECKOUT_ROOT } from "./cli-io.ts";
import { runMesh } from "./program.ts";

const servers = await useTestServers();
const nc = await servers.connectNats();
const jsm = await jetstreamManager(nc);
await ensureEventStream(jsm, "orders");
const publisher = createEventPublisher(nc, { actor: "orders" });
const mongo = new MongoClient(servers.mongoUrl);
servers.onCleanup(() => mongo.close());
const db = mongo.db(`${servers.databasePrefix}_usage`);

const placed = { subject: "events.orders.placed", schema: z.object({ n: z.number().int() }) };
const env = { NATS_CREDS: servers.credentials.credsFiles[OPERATOR_USER]! };

async function mesh(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runMesh(["--server", servers.natsUrl, ...argv], { root: CHECKOUT_ROOT, env, out: (t) => void (out += t), err: (t) => void (err += t) });
  return { code, out, err };
}

async function deadLetters(): Promise<Array<{ seq: number; eventId: string; reason: string; originalSubject: string; tenant: string }>> {
  const listed = await mesh("dlq", "ls", "usage", "--json");
  assert.equal(listed.code, 0, listed.err);
  return JSON.parse(listed.out);
}

/**
 * A `usage` consumer of orders.placed whose handler refuses (terminal NOT_FOUND) until `accept`
 * is set, then counts what it applied per event id; the runtime's dedupe records are on.
 */
async function startRefusingConsumer() {
  const recorder = eventRecorder();
  const applied = new Map<string, number>();
  const state = { accept: false };
  const consumer = await startEventConsumer({
    nc, consumerActor: "usage", spec: { event: placed, handler: async () => undefined, backoffMs: [10] },
    dedupe: mongoDedupe(db, "usage--placed"), onEvent: recorder.listener,
    process: async (_payload, delivery) => {
      if (!state.accept) throw new MeshError("NOT_FOUND", "no such order yet");
      applied.set(delivery.eventId, (applied.get(delivery.eventId) ?? 0) + 1);
    },
  });
  servers.onCleanup(() => consumer.stop());
  return { recorder, applied, state, consumer };
}

test("mesh dlq ls lists an actor's dead letters; replay puts one back, it is applied once and leaves the DLQ", { timeout: 60_000 }, async () => {
  const run = await startRefusingConsumer();
  await publisher.publish(placed, { n: 1 }, { eventId: "order-1", tenant: "acme" });
  await publisher.publish(placed, { n: 2 }, { eventId: "order-2", tenant: "acme" });
  await run.recorder.until("dead-lettered", 2);

  const human = await mesh("dlq", "ls", "usage");
  assert.equal(human.code, 0, human.err);
  assert.match(human.out, /seq +dead-lettered +event id +subject +tenant +deliveries +reason/);
  assert.match(human.out, /order-1 +events\.orders\.placed +acme +1 +handler: NOT_FOUND no such order yet/);
  assert.match(human.out, /2 dead letters/);
  const letters = await deadLetters();
  assert.deepEqual(letters.map((l) => l.eventId), ["order-1", "order-2"]);

  run.state.accept = true;
  const first = letters[0]!;
  const replay = await mesh("dlq", "replay", "usage", String(first.seq));
  assert.equal(replay.code, 0, replay.err);
  assert.match(replay.out, new RegExp(`replayed 1 dead letter of usage: ${first.seq} \\(order-1\\)`));
  await run.recorder.until("processed", 1);
  assert.deepEqual(Object.fromEntries(run.applied), { "order-1": 1 });
  assert.deepEqual((await deadLetters()).map((l) => l.eventId), ["order-2"], "a replayed dead letter leaves the DLQ");

  // Replaying the same dead letter again: it is gone, so nothing is published and the command says so.
  const again = await mesh("dlq", "replay", "usage", String(first.seq));
  assert.equal(again.code, 1);
  assert.match(again.err, new RegExp(`no dead letter of usage with seq ${first.seq} \\(see mesh dlq ls usage\\)`));

  // Two replays of the rest at once: each letter is published once (same msg id) and applied once.
  const both = await Promise.all([mesh("dlq", "replay", "usage", "--all"), mesh("dlq", "replay", "usage", "--all")]);
  assert.ok(both.some((r) => r.code === 0), both.map((r) => r.err).join(""));
  await run.recorder.until("processed", 2);
  await run.consumer.stop();
  const info = await run.consumer.info();
  assert.deepEqual({ pending: info.pending, ackPending: info.ackPending }, { pending: 0, ackPending: 0 });
  assert.deepEqual(Object.fromEntries(run.applied), { "order-1": 1, "order-2": 1 });
  assert.deepEqual(await deadLetters(), []);
});

test("a replayed copy of an already applied event is recognised by its event id and not applied again", { timeout: 60_000 }, async () => {
  // The situation after JetStream's duplicate window: the same dead letter replayed under another msg id.
  const run = await startRefusingConsumer();
  await publisher.publish(placed, { n: 3 }, { eventId: "order-3" });
  await run.recorder.until("dead-lettered", 1);
  run.state.accept = true;
  const [letter] = await deadLetters();
  const stored = await jsm.streams.getMessage("DLQ_USAGE", { seq: letter!.seq });
  assert.equal((await mesh("dlq", "replay", "usage", String(letter!.seq))).code, 0);
  await run.recorder.until("processed", 1);
  await run.consumer.stop(); // writes the dedupe record of order-3
  const again = await startRefusingConsumer();
  again.state.accept = true;
  // What a replay after the window publishes: the dead letter's body and event id under a new msg id.
  const headers = stored!.header;
  headers.set("Nats-Msg-Id", "replay-after-the-window");
  await jsm.jetstream().publish(letter!.originalSubject, stored!.data, { headers, msgID: "replay-after-the-window" });
  await again.recorder.until("duplicate", 1);
  await again.consumer.stop();
  assert.deepEqual(Object.fromEntries(run.applied), { "order-3": 1 });
  assert.equal(again.applied.size, 0);
});

test("a replayed event that fails again is dead-lettered again under a new sequence, not dropped", { timeout: 60_000 }, async () => {
  const run = await startRefusingConsumer();
  await publisher.publish(placed, { n: 4 }, { eventId: "order-4" });
  await run.recorder.until("dead-lettered", 1);
  const [letter] = await deadLetters();
  assert.equal((await mesh("dlq", "replay", "usage", String(letter!.seq))).code, 0);
  await run.recorder.until("dead-lettered", 2);
  const after = await deadLetters();
  assert.equal(after.length, 1);
  assert.equal(after[0]!.eventId, "order-4");
  assert.ok(after[0]!.seq > letter!.seq);
  await run.consumer.stop();
});

test("bad input: an unknown actor, unknown or malformed sequence numbers, or no selection exit non-zero and replay nothing", { timeout: 30_000 }, async () => {
  const before = await deadLetters();
  const unknownActor = await mesh("dlq", "ls", "billing");
  assert.deepEqual([unknownActor.code, unknownActor.err.trim()], [2, `unknown actor "billing" (actors: ${actorNames.join(", ")})`]);
  assert.equal((await mesh("dlq", "replay", "nobody", "--all")).code, 2);
  const unknownSeq = await mesh("dlq", "replay", "usage", "999999");
  assert.deepEqual([unknownSeq.code, unknownSeq.err.trim()], [1, "no dead letter of usage with seq 999999 (see mesh dlq ls usage)"]);
  const malformed = await mesh("dlq", "replay", "usage", "3x");
  assert.deepEqual([malformed.code, malformed.err.trim()], [2, '"3x" is not a dead letter\'s sequence number (a positive integer)']);
  assert.equal((await mesh("dlq", "replay", "usage", "0")).code, 2);
  const none = await mesh("dlq", "replay", "usage");
  assert.deepEqual([none.code, none.err.trim()], [2, "name the dead letters to replay (sequence numbers from mesh dlq ls usage) or --all"]);
  assert.equal((await mesh("dlq", "replay", "usage", "--all", "1")).code, 2);
  const noMesh = await runMesh(["--server", "nats://127.0.0.1:1", "dlq", "ls", "usage"], { root: CHECKOUT_ROOT, env, out: () => {}, err: () => {} });
  assert.equal(noMesh, 1);
  assert.deepEqual(await deadLetters(), before, "nothing replayed");
  const empty = await mesh("dlq", "ls", "tenants");
  assert.deepEqual([empty.code, empty.out.trim()], [0, "no dead letters for tenants"]);
});
