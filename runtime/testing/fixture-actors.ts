/**
 * Two small actors used only by the runtime's own tests: `fixture` (requests and events)
 * and `fixture-sink` (consumes fixture's events). They use only the public runtime API.
 */
import { EventEmitter } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { defineContract } from "../../protocol/contract.ts";
import { consumeEvent, defineActor, hasCode, MeshError } from "../index.ts";

export const fixtureContract = defineContract({
  actor: "fixture",
  requests: {
    echo: { subject: "fixture.echo", input: z.strictObject({ text: z.string().max(1000), n: z.number().int().optional() }), output: z.object({ text: z.string(), instance: z.string() }) },
    slow: { subject: "fixture.slow", input: z.strictObject({ ms: z.number().int().min(0).max(60_000) }), output: z.object({ done: z.boolean(), aborted: z.boolean() }) },
    count: { subject: "fixture.count", mutating: true, input: z.strictObject({ amount: z.number().int(), delayMs: z.number().int().max(5000).optional() }), output: z.object({ total: z.number() }) },
    executions: { subject: "fixture.executions", input: z.strictObject({}), output: z.object({ executions: z.number() }) },
    emit: { subject: "fixture.emit", input: z.strictObject({ value: z.string().min(1).max(100) }), output: z.object({ eventId: z.string() }) },
    fail: { subject: "fixture.fail", input: z.strictObject({ code: z.enum(["NOT_FOUND", "UNAVAILABLE", "CONFLICT", "INTERNAL", "CRASH"]) }), output: z.object({}) },
    /** Mutating: counts an execution, announces "record" on `fixtureEvents`, waits `delayMs`, then answers without the database. */
    record: { subject: "fixture.record", mutating: true, input: z.strictObject({ delayMs: z.number().int().max(10_000) }), output: z.object({ executions: z.number() }) },
    /** What the work context of this request holds (tests of calls made from inside other work). */
    whoami: { subject: "fixture.whoami", input: z.strictObject({}), output: z.object({ tenant: z.string(), traceId: z.string(), deadline: z.number(), idempotencyKey: z.string().optional() }) },
    /** Sleeps ignoring its signal (a handler bug a drain must survive); announces itself on `fixtureEvents`. */
    stubborn: { subject: "fixture.stubborn", input: z.strictObject({ ms: z.number().int().min(0).max(60_000) }), output: z.object({ aborted: z.boolean() }) },
  },
  events: {
    noted: { subject: "events.fixture.noted", schema: z.object({ value: z.string(), seq: z.number().int().optional() }) },
  },
});

export const fixtureSinkContract = defineContract({
  actor: "fixture-sink",
  requests: {
    applied: { subject: "fixture-sink.applied", input: z.strictObject({}), output: z.object({ values: z.record(z.string(), z.number()) }) },
  },
  events: {},
});

const instance = process.env.MESHWORK_INSTANCE_ID ?? "in-process";

/** In-process tests wait on these: "stubborn" (its AbortSignal) when that handler starts. */
export const fixtureEvents = new EventEmitter();

export const fixtureActor = defineActor({
  name: "fixture",
  version: "0.0.1",
  description: "runtime test fixture",
  contract: fixtureContract,
  collections: {
    // `_id` is unique across the whole collection, so tenant-owned documents are keyed by
    // their own field (unique together with the tenant) rather than by a fixed `_id`.
    counters: { tenantOwned: true, indexes: [{ key: { tenant: 1, key: 1 }, unique: true }] },
    executions: { tenantOwned: true, indexes: [{ key: { tenant: 1, key: 1 }, unique: true }] },
  },
  limits: { maxInFlight: 4, maxPayloadBytes: 4096 },
  handlers: {
    echo: async (input) => ({ text: input.text, instance }),
    slow: async (input, context) => {
      try {
        await sleep(input.ms, undefined, { signal: context.signal });
        return { done: true, aborted: false };
      } catch {
        return { done: false, aborted: context.signal.aborted };
      }
    },
    count: async (input, context) => {
      await context.store.collection<{ key: string; n: number }>("executions").scan.updateOne(context.tenant, { key: "runs" }, { $inc: { n: 1 } }, { upsert: true });
      if (input.delayMs) await sleep(input.delayMs);
      const after = await context.store.collection<{ key: string; total: number }>("counters")
        .scan.findOneAndUpdate(context.tenant, { key: "total" }, { $inc: { total: input.amount } }, { upsert: true });
      return { total: after?.total ?? 0 };
    },
    executions: async (_input, context) => {
      const runs = await context.store.collection<{ key: string; n: number }>("executions").scan.findOne(context.tenant, { key: "runs" });
      return { executions: runs?.n ?? 0 };
    },
    emit: async (input, context) => {
      const eventId = `${context.tenant}-${input.value}`;
      await context.publish(fixtureContract.events.noted, { value: input.value }, { eventId });
      return { eventId };
    },
    record: async (input, context) => {
      const runs = await context.store.collection<{ key: string; n: number }>("executions").scan
        .findOneAndUpdate(context.tenant, { key: "runs" }, { $inc: { n: 1 } }, { upsert: true });
      fixtureEvents.emit("record", context.tenant);
      await sleep(input.delayMs);
      return { executions: runs?.n ?? 0 };
    },
    stubborn: async (input, context) => {
      fixtureEvents.emit("stubborn", context.signal);
      await sleep(input.ms);
      return { aborted: context.signal.aborted };
    },
    whoami: async (_input, context) => ({
      tenant: context.tenant, traceId: context.traceId, deadline: context.deadline,
      ...(context.idempotencyKey === undefined ? {} : { idempotencyKey: context.idempotencyKey }),
    }),
    fail: async (input) => {
      if (input.code === "CRASH") throw new Error("secret internal detail");
      throw new MeshError(input.code, `asked to fail with ${input.code}`, { retryAfterMs: 10 });
    },
  },
});

export const fixtureSinkActor = defineActor({
  name: "fixture-sink",
  version: "0.0.1",
  description: "runtime test fixture consumer",
  contract: fixtureSinkContract,
  collections: { applied: { tenantOwned: true, indexes: [{ key: { tenant: 1, value: 1 }, unique: true }] } },
  consumers: [consumeEvent({
    event: fixtureContract.events.noted,
    batchSize: 8,
    maxDeliver: 3,
    backoffMs: [50],
    ackWaitMs: 2000,
    handler: async (event, context) => {
      const delay = Number(process.env.FIXTURE_SINK_DELAY_MS ?? 0);
      if (delay) await sleep(delay);
      // A fault (INTERNAL) uses the delivery budget; an outage (UNAVAILABLE) would be retried until it ends.
      if (event.value.startsWith("fail")) throw new Error("the sink's handler is broken");
      // Exactly-once effect: the event id is recorded in the same single-document update.
      await context.store.collection<{ value: string; times: number; events: string[] }>("applied")
        .scan.updateOne(context.tenant, { value: event.value, events: { $ne: context.eventId } }, { $inc: { times: 1 }, $push: { events: context.eventId } }, { upsert: true })
        .catch((error: unknown) => {
          if (!hasCode(error, "CONFLICT")) throw error; // CONFLICT: the upsert met the applied document
        });
    },
  })],
  handlers: {
    applied: async (_input, context) => {
      const docs = await context.store.collection<{ value: string; times: number }>("applied").scan.find(context.tenant, {});
      return { values: Object.fromEntries(docs.map((d) => [d.value, d.times])) };
    },
  },
});

export const fixtures = { fixture: fixtureActor, "fixture-sink": fixtureSinkActor } as const;
