/**
 * (a) bare NATS request/reply: a callback subscription in a queue group echoes the bytes it
 * gets; callers use `nc.request()` with the same payload already encoded.
 * (b) the same payload through the mesh: the `bench` actor's echo handler (zod validation of
 * input and output, tenant, deadline and traceparent headers, info logs to a file, metrics),
 * called with the runtime's MeshClient.
 * The sides run in alternating short rounds and each side's rounds are pooled, so a burst of
 * other work on the machine lands on all sides rather than on one.
 */
import { connect } from "@nats-io/transport-node";
import { connectNats, MeshClient } from "../../runtime/index.ts";
import { newTraceparent } from "../../runtime/request/request-headers.ts";
import { BENCH_TENANT, benchActor, benchContract, benchPayload } from "./bench-actors.ts";
import type { BenchEnvironment } from "./bench-environment.ts";
import { poolRounds, runClosedLoop, type LoadOptions, type LoadResult } from "./closed-loop.ts";
import type { Comparison, Measurement } from "./report.ts";

/** A side ready to be measured any number of times. */
export interface EchoSide {
  measure(load: LoadOptions): Promise<LoadResult>;
  close(): Promise<void>;
}

/**
 * `noAsyncTraces: false` is nats.js's default: every `request()` then builds two Error objects
 * (stack traces for a possible timeout), which is most of the bare caller's CPU. Measured
 * both ways, so the mesh is compared with bare NATS as shipped and as tuned.
 */
export async function openBareEcho(env: BenchEnvironment, noAsyncTraces = false): Promise<EchoSide> {
  const subject = noAsyncTraces ? "bare.echo-tuned" : "bare.echo";
  const responder = await connect({ ...env.natsOptions(), name: "bench-bare-responder", noAsyncTraces });
  const caller = await connect({ ...env.natsOptions(), name: "bench-bare-caller", noAsyncTraces });
  responder.subscribe(subject, {
    queue: "bare",
    callback: (error, msg) => {
      if (!error) msg.respond(msg.data);
    },
  });
  await responder.flush();
  const payload = new TextEncoder().encode(JSON.stringify(benchPayload(0)));
  return {
    measure: (load) => runClosedLoop(() => caller.request(subject, payload, { timeout: 5000 }), load),
    async close() {
      await caller.close();
      await responder.drain();
    },
  };
}

/** Calls that a real caller would make: a tenant, a trace context, the default deadline. */
export async function openMeshEcho(env: BenchEnvironment): Promise<EchoSide> {
  const actor = await env.startActor(benchActor, "bench-echo-1");
  const caller = await connectNats({ ...env.natsOptions(), name: "bench-mesh-caller" });
  const client = new MeshClient(caller, { service: "bench-caller" });
  const payload = benchPayload(0);
  const traceparents = Array.from({ length: 1024 }, () => newTraceparent());
  return {
    measure: (load) => runClosedLoop(
      (index) => client.request(benchContract.requests.echo, payload, { tenant: BENCH_TENANT, traceparent: traceparents[index & 1023]! }),
      load,
    ),
    async close() {
      client.close();
      await caller.close();
      await actor.stop();
    },
  };
}

function measurement(label: string, result: LoadResult): Measurement {
  return { label, unit: "req/s", summary: result.summary, errors: result.errors };
}

export async function benchRequestReply(env: BenchEnvironment, load: LoadOptions, rounds: number, sideWarmUpMs: number): Promise<Comparison[]> {
  const sides = [await openBareEcho(env), await openBareEcho(env, true), await openMeshEcho(env)] as const;
  const results: LoadResult[][] = sides.map(() => []);
  try {
    for (const side of sides) await side.measure({ ...load, warmupMs: sideWarmUpMs, measureMs: 100 });
    for (let round = 0; round < rounds; round++) {
      for (const [index, side] of sides.entries()) results[index]!.push(await side.measure(load));
    }
  } finally {
    for (const side of sides) await side.close();
  }
  const [bare, bareTuned, mesh] = results.map(poolRounds) as [LoadResult, LoadResult, LoadResult];
  const meshMeasurement = measurement("mesh request/reply", mesh);
  return [
    { scenario: "(a/b)", baseline: measurement("bare NATS request/reply", bare), subject: meshMeasurement },
    { scenario: "(a'/b)", baseline: measurement("bare NATS request/reply with noAsyncTraces", bareTuned), subject: meshMeasurement },
  ];
}
