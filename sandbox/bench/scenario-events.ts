/**
 * (c) bare JetStream: `js.publish` into a stream, then a durable pull consumer (batch 32,
 * max_ack_pending 256: the mesh defaults) parses each message and acks it.
 * (d) the same payload through the mesh: the runtime's EventPublisher (schema check,
 * Nats-Msg-Id, tenant and trace headers) into the `bench` actor's stream, consumed by the
 * `bench-sink` actor (schema check, dedupe lookup and record in its database, confirmed ack).
 * Per side: publish throughput and latency (closed loop); consume throughput draining the
 * backlog; stored→acked latency at a paced rate both sides can sustain.
 */
import { jetstream, jetstreamManager, AckPolicy, DeliverPolicy, RetentionPolicy, StorageType, type JetStreamManager } from "@nats-io/jetstream";
import { nanos, type NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { durableName, ensureEventStream, createEventPublisher } from "../../runtime/events/index.ts";
import { newTraceparent } from "../../runtime/request/request-headers.ts";
import { streamName } from "../../protocol/subjects.ts";
import { startAckMonitor } from "./ack-monitor.ts";
import type { ActorDefinition } from "../../runtime/index.ts";
import { BENCH_TENANT, benchContract, benchIdempotentSinkActor, benchPayload, benchSinkActor } from "./bench-actors.ts";
import type { BenchEnvironment } from "./bench-environment.ts";
import { runClosedLoop, type LoadOptions } from "./closed-loop.ts";
import { runPaced } from "./paced.ts";
import type { Comparison, Measurement } from "./report.ts";
import { rateAfterWarmup, summarize, type Summary } from "./stats.ts";

export interface EventLoad {
  readonly publish: LoadOptions;
  readonly warmupMs: number;
  readonly measureMs: number;
  /** Upper bound of the paced rate used for the latency measurement. */
  readonly maxPacedRate: number;
  /**
   * Messages waiting when a consumer starts: the same for every side, and enough that the drain
   * outlasts warm-up plus window (a backlog of what the publish step happened to leave made the
   * faster side's window short and its figure noisy).
   */
  readonly backlog: number;
  /** Drains per side; the median is reported. */
  readonly drainRounds: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

export interface Side {
  readonly stream: string;
  readonly durable: string;
  publish(index: number): Promise<unknown>;
  startConsumer(): Promise<{ stop(): Promise<void> }>;
}

const BARE_STREAM = "BARE_BENCH";
const BARE_SUBJECT = "bare-bench.noted";
const BARE_DURABLE = "bare-consumer";
const CONSUMER_START_SLACK_MS = 5000;
const MAX_FILL_FAILURES = 100;

async function measurePublish(label: string, side: Side, load: EventLoad): Promise<{ measurement: Measurement; published: number }> {
  let published = 0;
  const result = await runClosedLoop(async (index) => {
    await side.publish(index);
    published++;
  }, load.publish);
  return { measurement: { label: `${label} publish`, unit: "msg/s", summary: result.summary, errors: result.errors }, published };
}

/** Fills the stream to the backlog, starts the consumer, returns its ack rate after warm-up; leaves the stream empty. */
async function measureDrain(side: Side, alreadyPublished: number, jsm: JetStreamManager, monitorNc: NatsConnection, load: EventLoad): Promise<number> {
  const published = await fillBacklog(side, alreadyPublished, load.backlog, load.publish.concurrency);
  const monitor = startAckMonitor(monitorNc, side.stream, side.durable);
  await monitorNc.flush();
  const consumer = await side.startConsumer();
  await monitor.untilAcks(published, CONSUMER_START_SLACK_MS + load.warmupMs + load.measureMs);
  await consumer.stop();
  monitor.stop();
  await jsm.streams.purge(side.stream);
  return rateAfterWarmup(monitor.ackTimes.values(), load.warmupMs, load.measureMs).throughput;
}

/** Publishes (unmeasured) until the stream holds `backlog` messages of this side; returns how many it holds. */
export async function fillBacklog(side: Side, published: number, backlog: number, concurrency: number): Promise<number> {
  let next = published;
  let stored = published;
  let failures = 0;
  const worker = async (): Promise<void> => {
    // A stream that refuses publishes ends the fill (the drain then waits only for what is stored).
    while (next < backlog && failures < MAX_FILL_FAILURES) {
      try {
        await side.publish(next++);
        stored++;
      } catch {
        failures++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return stored;
}

/**
 * Latencies of the acks that came after the warm-up, at `rate` publishes per second. The stream
 * is emptied first: the two mesh sides share one stream, so without that the `dedupe: false`
 * consumer first drained the events of the mesh side's paced run, seconds old, and its latency
 * measured the backlog (p50 in the hundreds of ms).
 */
async function measurePacedLatency(side: Side, jsm: JetStreamManager, monitorNc: NatsConnection, rate: number, load: EventLoad): Promise<{ summary: Summary; errors: number }> {
  await jsm.streams.purge(side.stream);
  const monitor = startAckMonitor(monitorNc, side.stream, side.durable);
  await monitorNc.flush();
  const consumer = await side.startConsumer();
  const paced = await runPaced((index) => side.publish(index), rate, load.warmupMs + load.measureMs);
  await monitor.untilAcks(paced.started - paced.errors, CONSUMER_START_SLACK_MS);
  await consumer.stop();
  monitor.stop();
  const times = monitor.ackTimes.values();
  const latencies = monitor.latencies.values();
  const measureFrom = (times[0] ?? 0) + load.warmupMs;
  const measured = latencies.filter((_, i) => times[i]! > measureFrom);
  return { summary: summarize(measured, load.measureMs), errors: paced.errors };
}

export async function bareSide(nc: NatsConnection, jsm: JetStreamManager): Promise<Side> {
  await jsm.streams.add({
    name: BARE_STREAM, subjects: ["bare-bench.>"], storage: StorageType.File, retention: RetentionPolicy.Limits,
    max_age: nanos(7 * 24 * 3600_000), duplicate_window: nanos(120_000),
  });
  await jsm.consumers.add(BARE_STREAM, {
    durable_name: BARE_DURABLE, filter_subject: BARE_SUBJECT, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All,
    max_ack_pending: 256, ack_wait: nanos(30_000), max_deliver: 6,
  });
  const js = jetstream(nc);
  const payload = new TextEncoder().encode(JSON.stringify(benchPayload(0)));
  const decoder = new TextDecoder();
  return {
    stream: BARE_STREAM,
    durable: BARE_DURABLE,
    publish: () => js.publish(BARE_SUBJECT, payload),
    async startConsumer() {
      const consumer = await js.consumers.get(BARE_STREAM, BARE_DURABLE);
      const messages = await consumer.consume({ max_messages: 32 });
      const loop = (async () => {
        for await (const message of messages) {
          JSON.parse(decoder.decode(message.data));
          message.ack();
        }
      })();
      return {
        async stop() {
          await messages.close();
          await loop;
          await nc.flush();
        },
      };
    },
  };
}

export async function meshSide(env: BenchEnvironment, nc: NatsConnection, jsm: JetStreamManager, sink: ActorDefinition = benchSinkActor): Promise<Side> {
  await ensureEventStream(jsm, benchContract.actor);
  const publisher = createEventPublisher(nc, { actor: benchContract.actor });
  const payload = benchPayload(0);
  const traceparents = Array.from({ length: 1024 }, () => newTraceparent());
  return {
    stream: streamName(benchContract.actor),
    durable: durableName(sink.name, "noted"),
    publish: (index) => publisher.publish(benchContract.events.noted, payload, { tenant: BENCH_TENANT, traceparent: traceparents[index & 1023]!, service: "bench" }),
    startConsumer: () => env.startActor(sink, `${sink.name}-1`),
  };
}

export async function benchEvents(env: BenchEnvironment, load: EventLoad): Promise<Comparison[]> {
  const nc = await connect({ ...env.natsOptions(), name: "bench-events" });
  const monitorNc = await connect({ ...env.natsOptions(), name: "bench-ack-monitor" });
  try {
    const jsm = await jetstreamManager(nc);
    const bare = await bareSide(nc, jsm);
    const mesh = await meshSide(env, nc, jsm);
    const idempotent = await meshSide(env, nc, jsm, benchIdempotentSinkActor);
    const sides = [bare, mesh, idempotent];
    // js.publish goes through nc.request(), which builds two Error objects per call unless the
    // connection turns async traces off: measured both ways, as request/reply is.
    const tunedNc = await connect({ ...env.natsOptions(), name: "bench-events-tuned", noAsyncTraces: true });
    const tunedJs = jetstream(tunedNc);
    const tunedPayload = new TextEncoder().encode(JSON.stringify(benchPayload(0)));
    const tuned: Side = { ...bare, publish: () => tunedJs.publish(BARE_SUBJECT, tunedPayload) };
    const publishes = [await measurePublish("bare JetStream", bare, load), await measurePublish("mesh event", mesh, load)];
    const tunedPublish = await measurePublish("bare JetStream with noAsyncTraces", tuned, load);
    await tunedNc.close();
    // Rounds alternate the sides so a slow spell of the machine does not land on one side only.
    const drains: number[][] = sides.map(() => []);
    for (let round = 0; round < load.drainRounds; round++) {
      for (const [index, side] of sides.entries()) {
        drains[index]!.push(await measureDrain(side, round === 0 ? (index === 0 ? publishes[0]!.published + tunedPublish.published : (publishes[index]?.published ?? 0)) : 0, jsm, monitorNc, load));
      }
    }
    const [bareDrain, meshDrain, idempotentDrain] = drains.map(median) as [number, number, number];
    const slowest = Math.min(bareDrain, meshDrain);
    const rate = Math.max(10, Math.min(load.maxPacedRate, Math.floor((Number.isFinite(slowest) ? slowest : 100) / 2)));
    const bareLatency = await measurePacedLatency(bare, jsm, monitorNc, rate, load);
    const meshLatency = await measurePacedLatency(mesh, jsm, monitorNc, rate, load);
    const idempotentLatency = await measurePacedLatency(idempotent, jsm, monitorNc, rate, load);
    const consume = (label: string, throughput: number, latency: { summary: Summary; errors: number }): Measurement => ({
      label, unit: "msg/s", summary: { ...latency.summary, throughput }, errors: latency.errors,
    });
    return [
      { scenario: "(c/d)", baseline: publishes[0]!.measurement, subject: publishes[1]!.measurement, latencyMeaning: "publish until the stream's ack" },
      { scenario: "(c'/d)", baseline: tunedPublish.measurement, subject: publishes[1]!.measurement },
      {
        scenario: "(c/d)",
        baseline: consume("bare JetStream consume", bareDrain, bareLatency),
        subject: consume("mesh event consume", meshDrain, meshLatency),
        latencyMeaning: `consume throughput: median of ${load.drainRounds} drains of ${load.backlog} messages; latency is stored→acked with both sides publishing ${rate} msg/s`,
      },
      {
        scenario: "(c/d)",
        baseline: consume("bare JetStream consume", bareDrain, bareLatency),
        subject: consume("mesh event consume, dedupe: false", idempotentDrain, idempotentLatency),
        latencyMeaning: "dedupe: false (handler idempotent by event id) skips the runtime's per-event database record",
      },
    ];
  } finally {
    await monitorNc.close();
    await nc.close();
  }
}
