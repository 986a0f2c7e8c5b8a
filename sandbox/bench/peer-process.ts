/**
 * One process of the cross-process rows (scenario-peers.ts), bundled and run with plain `node`:
 *   moleculer-echo   a Moleculer 0.15 node (NATS transporter, validator on) whose `bench-echo.echo`
 *                    action checks the bench payload and returns it
 *   moleculer-caller a Moleculer node that calls it
 *   mesh-echo        one replica of the `bench` actor (or `bench-io` with the argument "io")
 *   mesh-caller      a MeshClient that calls `bench.echo` (or `bench-io.wait`)
 *   bare-echo        a nats.js subscription (noAsyncTraces) that answers with the bytes it gets
 *   bare-caller      `nc.request()` (noAsyncTraces) with the bench payload already encoded
 * Responders print "ready". Callers print "ready", then answer each IPC message
 * `{ load: { concurrency, warmupMs, measureMs } }` with `{ latenciesMs, windowMs, errors, firstError }`.
 */
import { readFileSync } from "node:fs";
import { connect } from "@nats-io/transport-node";
import moleculer from "moleculer";
import { credsAuthenticator } from "nats";
import { connectNats, MeshClient, natsAuthFromCreds, runtimeConfigFromEnv, startActor } from "../../runtime/index.ts";
import { newTraceparent } from "../../runtime/request/request-headers.ts";
import { BENCH_TENANT, benchActor, benchContract, benchIoActor, benchIoContract, benchPayload } from "./bench-actors.ts";
import { runClosedLoop, type LoadOptions } from "./closed-loop.ts";

const [mode, variant] = process.argv.slice(2);
const natsUrl = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const credsFile = process.env.NATS_CREDS;
const natsAuth = credsFile ? natsAuthFromCreds(credsFile) : {};

const BARE_SUBJECT = "bare.echo-peer";

/** The bench payload's schema for Moleculer's validator (fastest-validator), as strict as the zod one. */
const ECHO_PARAMS = {
  $$strict: true,
  requestId: { type: "string", max: 64 },
  user: { type: "string", max: 64 },
  text: { type: "string", max: 500 },
  tags: { type: "array", items: { type: "string", max: 32 }, max: 10 },
  amount: { type: "number" },
  urgent: { type: "boolean" },
};

function moleculerBroker(nodeID: string): InstanceType<typeof moleculer.ServiceBroker> {
  return new moleculer.ServiceBroker({
    nodeID,
    transporter: { type: "NATS", options: { url: natsUrl, ...(credsFile ? { authenticator: credsAuthenticator(readFileSync(credsFile)) } : {}) } },
    logger: false,
    validator: true,
  });
}

function serveCalls(operation: (index: number) => Promise<unknown>): void {
  process.on("message", (message: { load: LoadOptions }) => {
    void runClosedLoop(operation, message.load).then((result) => {
      process.send?.({ latenciesMs: Array.from(result.latenciesMs), windowMs: result.windowMs, errors: result.errors, firstError: result.firstError === undefined ? undefined : String(result.firstError) });
    });
  });
}

async function main(): Promise<() => Promise<void>> {
  switch (mode) {
    case "moleculer-echo": {
      const broker = moleculerBroker(`bench-echo-${process.pid}`);
      broker.createService({ name: "bench-echo", actions: { echo: { params: ECHO_PARAMS, handler: (ctx: { params: unknown }) => ctx.params } } });
      await broker.start();
      return () => broker.stop();
    }
    case "moleculer-caller": {
      const broker = moleculerBroker(`bench-caller-${process.pid}`);
      await broker.start();
      await broker.waitForServices(["bench-echo"], 10_000);
      const payload = benchPayload(0);
      serveCalls(() => broker.call("bench-echo.echo", payload, { timeout: 5000, retries: 0 }));
      return () => broker.stop();
    }
    case "bare-echo": {
      const nc = await connect({ servers: natsUrl, ...natsAuth, noAsyncTraces: true });
      nc.subscribe(BARE_SUBJECT, {
        queue: "bare",
        callback: (error, msg) => {
          if (!error) msg.respond(msg.data);
        },
      });
      await nc.flush();
      return () => nc.drain();
    }
    case "bare-caller": {
      const nc = await connect({ servers: natsUrl, ...natsAuth, noAsyncTraces: true });
      const payload = new TextEncoder().encode(JSON.stringify(benchPayload(0)));
      serveCalls(() => nc.request(BARE_SUBJECT, payload, { timeout: 5000 }));
      return () => nc.close();
    }
    case "mesh-echo": {
      const running = await startActor(variant === "io" ? benchIoActor : benchActor, { config: runtimeConfigFromEnv() });
      return () => running.stop();
    }
    case "mesh-caller": {
      const nc = await connectNats({ servers: natsUrl, ...natsAuth, noAsyncTraces: true });
      const client = new MeshClient(nc, { service: "bench-caller" });
      const traceparents = Array.from({ length: 1024 }, () => newTraceparent());
      if (variant === "io") {
        serveCalls((index) => client.request(benchIoContract.requests.wait, { n: index }, { tenant: BENCH_TENANT, traceparent: traceparents[index & 1023]!, maxAttempts: 10 }));
      } else {
        const payload = benchPayload(0);
        serveCalls((index) => client.request(benchContract.requests.echo, payload, { tenant: BENCH_TENANT, traceparent: traceparents[index & 1023]! }));
      }
      return async () => {
        client.close();
        await nc.close();
      };
    }
    default:
      throw new Error(`unknown mode ${mode}`);
  }
}

const stop = await main();
process.stdout.write("ready\n");
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    stop().then(() => process.exit(0), () => process.exit(1));
  });
}
