/**
 * (g) usage at growth: does the `usage` actor's cost per event and per report stay flat as one
 * tenant's history grows? One usage replica drains a backlog of that tenant's usage events
 * (ack rate, measured from outside by the ack monitor) and then answers `usage.report` for
 * today (closed loop), first with little stored, then again after `seeded` more events were
 * counted into the same day's ledger (through the actor's own ledger code, in large batches,
 * so seeding takes seconds, not the minutes a drain would).
 * Baseline: the same figures with little stored, in the same run.
 */
import { randomUUID } from "node:crypto";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { llmContract, type UsageEvent } from "../../protocol/llm.ts";
import { tenantsContract } from "../../protocol/tenants.ts";
import { usageContract } from "../../protocol/usage.ts";
import { actorClient, MeshClient } from "../../runtime/index.ts";
import { createEventPublisher, durableName, ensureEventStream } from "../../runtime/events/index.ts";
import { createActorStore, createMongoClient } from "../../runtime/store/index.ts";
import { streamName } from "../../protocol/subjects.ts";
import { tenantsActor } from "../../actors/tenants/actor.ts";
import { createUsageActor } from "../../actors/usage/actor.ts";
import { createUsageLedger } from "../../actors/usage/usage-ledger.ts";
import { startAckMonitor } from "./ack-monitor.ts";
import type { BenchEnvironment } from "./bench-environment.ts";
import { runClosedLoop, type LoadOptions } from "./closed-loop.ts";
import type { Comparison, Measurement } from "./report.ts";
import { UNLIMITED_POLICY } from "./scenario-leases.ts";
import { summarize } from "./stats.ts";

export interface UsageLoad {
  /** Events drained per measurement. */
  readonly backlog: number;
  /** Drains per side; the median is reported. */
  readonly drainRounds: number;
  /** Events counted into the ledger between the two measurements. */
  readonly seeded: number;
  readonly report: LoadOptions;
}

const TENANT = "bench-usage";
const SUFFIX = "_usage";
const SEED_CHUNK = 1000;

function usageEvent(index: number): UsageEvent {
  return {
    tenant: TENANT, service: index % 2 ? "checkout" : "search", model: index % 3 ? "gpt-4o-mini" : "gpt-4o",
    promptTokens: 120, completionTokens: 40, costUsd: 0.00004, latencyMs: 3, cacheHit: false, outcome: "ok", fallback: false,
    at: new Date().toISOString(),
  };
}

export async function benchUsage(env: BenchEnvironment, load: UsageLoad): Promise<Comparison[]> {
  const nc = await connect({ ...env.natsOptions(), name: "bench-usage" });
  const monitorNc = await connect({ ...env.natsOptions(), name: "bench-usage-monitor" });
  const client = new MeshClient(nc, { service: "bench-caller", maxAttempts: 1, defaultTimeoutMs: 10_000 });
  const tenants = await env.startActor(tenantsActor, "bench-usage-tenants-1", SUFFIX);
  const mongo = createMongoClient(env.mongoUrl);
  try {
    await actorClient(client, tenantsContract).put({ policy: { ...UNLIMITED_POLICY, retention: { storePrompts: false, retentionDays: 30 } }, expectedVersion: 0 }, { tenant: TENANT });
    const jsm = await jetstreamManager(nc);
    await ensureEventStream(jsm, "llm");
    const publisher = createEventPublisher(nc, { actor: "llm" });
    let published = 0;
    const drain = async (): Promise<number> => {
      await Promise.all(Array.from({ length: 64 }, async () => {
        while (published < load.backlog) {
          published++;
          await publisher.publish(llmContract.events.usage, usageEvent(published), { tenant: TENANT, eventId: randomUUID() });
        }
      }));
      published = 0;
      const monitor = startAckMonitor(monitorNc, streamName("llm"), durableName("usage", "usage"));
      await monitorNc.flush();
      const usage = await env.startActor(createUsageActor(), "bench-usage-1", SUFFIX);
      await monitor.untilAcks(load.backlog, 120_000);
      await usage.stop();
      monitor.stop();
      await jsm.streams.purge(streamName("llm"));
      const times = monitor.ackTimes.values();
      return times.length < 2 ? 0 : ((times.length - 1) * 1000) / (times[times.length - 1]! - times[0]!);
    };
    const report = async () => {
      const usage = await env.startActor(createUsageActor(), "bench-usage-report-1", SUFFIX);
      try {
        const usageClient = actorClient(client, usageContract);
        return await runClosedLoop(() => usageClient.report({ groupBy: "model" }, { tenant: TENANT }), load.report);
      } finally {
        await usage.stop();
      }
    };

    const drains = async () => {
      const rates: number[] = [];
      for (let round = 0; round < load.drainRounds; round++) rates.push(await drain());
      return rates.sort((a, b) => a - b)[Math.floor(rates.length / 2)]!;
    };
    const emptyDrain = await drains();
    const emptyReport = await report();
    await seed(env, mongo, load.seeded);
    const grownDrain = await drains();
    const grownReport = await report();
    const stored = (n: number) => `${n.toLocaleString("en-US")} stored`;
    const drained = load.backlog * load.drainRounds;
    const consumeRow = (label: string, throughput: number): Measurement => ({
      label, unit: "events/s", summary: { ...summarize([], 1), throughput }, errors: 0,
    });
    return [
      {
        scenario: "(g)",
        baseline: consumeRow(`usage consume, up to ${stored(drained)}`, emptyDrain),
        subject: consumeRow(`usage consume, ${stored(drained + load.seeded)} and more`, grownDrain),
        latencyMeaning: `one replica draining ${load.backlog} events of one tenant, median of ${load.drainRounds} drains, ack rate first to last ack`,
      },
      {
        scenario: "(g)",
        baseline: { label: `usage.report, ${stored(drained)}`, unit: "req/s", summary: emptyReport.summary, errors: emptyReport.errors },
        subject: { label: `usage.report, ${stored(2 * drained + load.seeded)}`, unit: "req/s", summary: grownReport.summary, errors: grownReport.errors },
        latencyMeaning: `today's report by model, ${load.report.concurrency} concurrent callers`,
      },
    ];
  } finally {
    client.close();
    await tenants.stop();
    await mongo.close();
    await monitorNc.close();
  }
}

/** Counts `count` events of the tenant into today's ledger through the actor's own ledger, 1,000 per batch. */
async function seed(env: BenchEnvironment, mongo: ReturnType<typeof createMongoClient>, count: number): Promise<void> {
  const { collections } = createUsageActor();
  const store = createActorStore({ client: mongo, actor: "usage", prefix: env.databasePrefix + SUFFIX, collections });
  const ledger = createUsageLedger({ maxBatch: SEED_CHUNK, rollupRetentionDays: 400 });
  for (let done = 0; done < count; done += SEED_CHUNK) {
    const size = Math.min(SEED_CHUNK, count - done);
    await Promise.all(Array.from({ length: size }, (_, i) => ledger.apply(store, { tenant: TENANT, eventId: `seed-${done + i}`, event: usageEvent(done + i), retentionDays: 30 })));
  }
}
