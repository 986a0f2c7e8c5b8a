/**
 * The actors the bench measures, built only with the public runtime API: `bench` echoes a
 * payload (request/reply), does one atomic store write (the lease baseline) and owns the
 * `events.bench.noted` stream; `bench-sink` consumes that event and does nothing else, so
 * what is measured is the runtime's consume path (schema check, dedupe record, confirmed ack).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { defineContract } from "../../protocol/contract.ts";
import { consumeEvent, defineActor } from "../../runtime/index.ts";

/** About 200 bytes as JSON; the same object is sent bare and through the mesh. */
export const BenchPayload = z.strictObject({
  requestId: z.string().max(64),
  user: z.string().max(64),
  text: z.string().max(500),
  tags: z.array(z.string().max(32)).max(10),
  amount: z.number(),
  urgent: z.boolean(),
});
export type BenchPayload = z.infer<typeof BenchPayload>;

export const BENCH_TENANT = "bench-tenant";

export function benchPayload(index: number): BenchPayload {
  return {
    requestId: `req-${String(index).padStart(12, "0")}`,
    user: "user-0042@example.com",
    text: "The quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs.",
    tags: ["bench", "echo", "payload"],
    amount: 1234.5,
    urgent: false,
  };
}

export const benchContract = defineContract({
  actor: "bench",
  requests: {
    echo: { subject: "bench.echo", input: BenchPayload, output: BenchPayload },
    write: { subject: "bench.write", input: z.strictObject({ key: z.string().max(64) }), output: z.object({ n: z.number().int() }) },
  },
  events: {
    noted: { subject: "events.bench.noted", schema: BenchPayload },
  },
});

/** The I/O-bound actor of the scaling row: each request waits 5 ms (a stand-in for a database or a provider). */
export const benchIoContract = defineContract({
  actor: "bench-io",
  requests: {
    wait: { subject: "bench-io.wait", input: z.strictObject({ n: z.number().int() }), output: z.object({ n: z.number().int() }) },
  },
  events: {},
});

export const IO_WAIT_MS = 5;
/** Requests one bench-io replica works on at once (its own bound, as a connection pool would be). */
export const IO_MAX_IN_FLIGHT = 8;

export const benchIoActor = defineActor({
  name: "bench-io",
  version: "0.0.1",
  description: "bench: waits 5 ms per request",
  contract: benchIoContract,
  collections: {},
  limits: { maxInFlight: IO_MAX_IN_FLIGHT },
  handlers: {
    wait: async (input, context) => {
      await sleep(IO_WAIT_MS, undefined, { signal: context.signal });
      return { n: input.n };
    },
  },
});

export const benchSinkContract = defineContract({ actor: "bench-sink", requests: {}, events: {} });
export const benchIdempotentSinkContract = defineContract({ actor: "bench-idem-sink", requests: {}, events: {} });

export const benchActor = defineActor({
  name: "bench",
  version: "0.0.1",
  description: "bench: echo and one-write requests",
  contract: benchContract,
  collections: { counters: { tenantOwned: true } },
  handlers: {
    echo: async (input) => input,
    write: async (input, context) => {
      const after = await context.store.collection<{ _id: string; n: number }>("counters")
        .scan.findOneAndUpdate(context.tenant, { _id: input.key }, { $inc: { n: 1 } }, { upsert: true });
      return { n: after?.n ?? 0 };
    },
  },
});

/** Batch size and ack settings are the runtime defaults, so the bare consumer can copy them. */
export const benchSinkActor = defineActor({
  name: "bench-sink",
  version: "0.0.1",
  description: "bench: consumes events.bench.noted",
  contract: benchSinkContract,
  collections: {},
  consumers: [consumeEvent({ event: benchContract.events.noted, handler: async () => {} })],
  handlers: {},
});

/** The same consumer for a handler that is idempotent by itself: no runtime dedupe record. */
export const benchIdempotentSinkActor = defineActor({
  name: "bench-idem-sink",
  version: "0.0.1",
  description: "bench: consumes events.bench.noted without the runtime's dedupe record",
  contract: benchIdempotentSinkContract,
  collections: {},
  consumers: [consumeEvent({ event: benchContract.events.noted, dedupe: false, handler: async () => {} })],
  handlers: {},
});
