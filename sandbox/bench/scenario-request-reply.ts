/**
 * (a) bare NATS request/reply: a callback subscription in a queue group echoes the bytes it
 * gets; callers use `nc.request()` with the same payload already encoded.
 * (b) the same payload through the mesh: the `bench` actor's echo handler (zod validation of
 * input and output, tenant, deadline and traceparent headers, info logs to a file, metrics),
 * called with the runtime's MeshClient.
 * Both: one responder process-side connection, one caller connection, same concurrency.
 */
import { connect } from "@nats-io/transport-node";
import { MeshClient } from "../../runtime/index.ts";
import { newTraceparent } from "../../runtime/request/request-headers.ts";
import { BENCH_TENANT, benchActor, benchContract, benchPayload } from "./bench-actors.ts";
import type { BenchEnvironment } from "./bench-environment.ts";
import { runClosedLoop, type LoadOptions, type LoadResult } from "./closed-loop.ts";
import type { Comparison, Measurement } from "./report.ts";

const BARE_SUBJECT = "bare.echo";

function measurement(label: string, result: LoadResult): Measurement {
  return { label, unit: "req/s", summary: result.summary, errors: result.errors };
}

/**
 * `noAsyncTraces: false` is nats.js's default: every `request()` then builds two Error objects
 * (stack traces for a possible timeout), which is most of the bare caller's CPU. Measured
 * both ways, so the mesh is compared with bare NATS as shipped and as tuned.
 */
export async function measureBareRequestReply(env: BenchEnvironment, load: LoadOptions, noAsyncTraces = false): Promise<LoadResult> {
  const responder = await connect({ servers: env.natsUrl, name: "bench-bare-responder", noAsyncTraces });
  const caller = await connect({ servers: env.natsUrl, name: "bench-bare-caller", noAsyncTraces });
  try {
    responder.subscribe(BARE_SUBJECT, {
      queue: "bare",
      callback: (error, msg) => {
        if (!error) msg.respond(msg.data);
      },
    });
    await responder.flush();
    const payload = new TextEncoder().encode(JSON.stringify(benchPayload(0)));
    return await runClosedLoop(() => caller.request(BARE_SUBJECT, payload, { timeout: 5000 }), load);
  } finally {
    await caller.close();
    await responder.drain();
  }
}

/** Calls that a real caller would make: a tenant, a trace context, the default deadline. */
export async function measureMeshRequestReply(env: BenchEnvironment, load: LoadOptions): Promise<LoadResult> {
  const actor = await env.startActor(benchActor, "bench-echo-1");
  const caller = await connect({ servers: env.natsUrl, name: "bench-mesh-caller" });
  const client = new MeshClient(caller, { service: "bench-caller" });
  try {
    const payload = benchPayload(0);
    const traceparents = Array.from({ length: 1024 }, () => newTraceparent());
    return await runClosedLoop(
      (index) => client.request(benchContract.requests.echo, payload, { tenant: BENCH_TENANT, traceparent: traceparents[index & 1023]! }),
      load,
    );
  } finally {
    client.close();
    await caller.close();
    await actor.stop();
  }
}

export async function benchRequestReply(env: BenchEnvironment, load: LoadOptions): Promise<Comparison[]> {
  const bare = await measureBareRequestReply(env, load);
  const bareTuned = await measureBareRequestReply(env, load, true);
  const mesh = measurement("mesh request/reply", await measureMeshRequestReply(env, load));
  return [
    { scenario: "(a/b)", baseline: measurement("bare NATS request/reply", bare), subject: mesh },
    { scenario: "(a'/b)", baseline: measurement("bare NATS request/reply with noAsyncTraces", bareTuned), subject: mesh },
  ];
}
