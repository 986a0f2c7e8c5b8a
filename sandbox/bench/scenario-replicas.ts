/**
 * (r) lean replicas: for each actor, one replica from the production build (`node`, the
 * Dockerfile's flags and environment) as its own process:
 * - resident memory idle (ready, then two forced full GCs, each followed by 1 s for V8 and glibc
 *   to hand freed pages back) and after 10,000 requests and 10,000 more (read the same way),
 *   against a Moleculer 0.15 service node with its validator in the same run, read the same way;
 * - time from spawn() to its "actor started" log line, compiled and under tsx (median of
 *   STARTS rounds that alternate the two).
 * What each replica needs besides itself runs in the bench process from the sources: the test
 * provider, and a tenants and an ai-capacity replica once those have been measured (the measured
 * replica is always the only one in its queue group).
 */
import { readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { credsAuthenticator } from "nats";
import { join } from "node:path";
import { build } from "esbuild";
import moleculer from "moleculer";
import { aiCapacityContract } from "../../protocol/ai-capacity.ts";
import { llmContract } from "../../protocol/llm.ts";
import { tenantsContract } from "../../protocol/tenants.ts";
import { usageContract } from "../../protocol/usage.ts";
import { actorClient, connectNats, MeshClient } from "../../runtime/index.ts";
import { createAiCapacityActor } from "../../actors/ai-capacity/actor.ts";
import { parseAiCapacityConfig } from "../../actors/ai-capacity/config.ts";
import { tenantsActor } from "../../actors/tenants/actor.ts";
import { actorNodeFlags, buildProduction, CHECKOUT_ROOT, PRODUCTION_ENV, PRODUCTION_NODE_FLAGS } from "../build/production-build.ts";
import { startTestProvider, type TestProvider } from "../provider/test-provider.ts";
import { BENCH_TENANT } from "./bench-actors.ts";
import { BENCH_DIR, type BenchEnvironment } from "./bench-environment.ts";
import type { Figure } from "./figures.ts";
import { runFixedCount } from "./closed-loop.ts";
import { startMeasuredProcess, type MeasuredProcess, type MemoryReading } from "./measured-process.ts";
import { UNLIMITED_POLICY } from "./scenario-leases.ts";

export interface ReplicaLoad {
  /** Requests sent to each measured replica between the two memory readings. */
  readonly requests: number;
  readonly concurrency: number;
  /** Start-up rounds per actor, each one compiled start and one tsx start. */
  readonly starts: number;
}

const MB = 1024 * 1024;
const TSX_LOADER = import.meta.resolve("tsx");
const ACTORS = ["tenants", "ai-capacity", "usage", "llm"] as const;
type ActorName = (typeof ACTORS)[number];

/** One request each actor answers from its hot path (llm: a deterministic request answered from its cache). */
function requestFor(actor: ActorName, client: MeshClient): (index: number) => Promise<unknown> {
  const options = { tenant: BENCH_TENANT, timeoutMs: 30_000 };
  switch (actor) {
    case "tenants": {
      const tenants = actorClient(client, tenantsContract);
      return () => tenants.get({}, options);
    }
    case "ai-capacity": {
      const capacity = actorClient(client, aiCapacityContract);
      return () => capacity.status({}, options);
    }
    case "usage": {
      const usage = actorClient(client, usageContract);
      return () => usage.report({ groupBy: "model" }, options);
    }
    case "llm": {
      const llm = actorClient(client, llmContract);
      return () => llm.complete({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Bench: one cached answer, please." }], maxTokens: 16, temperature: 0 }, options);
    }
  }
}

export async function benchReplicas(env: BenchEnvironment, load: ReplicaLoad): Promise<Figure[]> {
  const outDir = join(BENCH_DIR, "dist");
  const logDir = join(BENCH_DIR, "replicas");
  await mkdir(logDir, { recursive: true });
  await buildProduction(outDir);
  const moleculerScript = join(outDir, "moleculer-node.js");
  await build({ entryPoints: [join(CHECKOUT_ROOT, "sandbox/bench/moleculer-node.ts")], outfile: moleculerScript, format: "esm", platform: "node", target: "node20", logLevel: "silent" });

  const provider: TestProvider = await startTestProvider();
  const nc = await connectNats({ ...env.natsOptions(), name: "bench-replicas", noAsyncTraces: true });
  const client = new MeshClient(nc, { service: "bench-caller", maxAttempts: 1, defaultTimeoutMs: 30_000 });
  const support: Array<{ stop(): Promise<void> }> = [];
  const figures: Figure[] = [];
  const replicaEnv = (actor: string, instance: string): Record<string, string> => ({
    ...PRODUCTION_ENV,
    NATS_URL: env.natsUrl, NATS_CREDS: env.natsCredsFile(actor), MONGO_URL: env.mongoUrl, MESHWORK_DB_PREFIX: `${env.databasePrefix}rep`, MESHWORK_INSTANCE_ID: `${actor}-${instance}`,
    LOG_LEVEL: "info", METRICS_PORT: "0", OPENAI_BASE_URL: provider.baseURL, OPENAI_API_KEY: "test",
  });
  const startReplica = (actor: string, mode: "compiled" | "tsx", instance: string, gcHook: boolean): Promise<MeasuredProcess> => startMeasuredProcess({
    nodeFlags: mode === "compiled" ? [...PRODUCTION_NODE_FLAGS, ...actorNodeFlags(actor)] : ["--import", TSX_LOADER],
    script: mode === "compiled" ? join(outDir, "actors/main.js") : join(CHECKOUT_ROOT, "actors/main.ts"),
    args: [actor], env: replicaEnv(actor, instance), readyText: '"actor started"', logFile: join(logDir, `${actor}.log`), gcHook,
  });

  try {
    await provider.setBehaviour({ latencyMs: 0 });
    // Moleculer first, so its broker's NATS traffic is gone before the actors are measured.
    const moleculerFigures = await measureMoleculer(env, moleculerScript, join(logDir, "moleculer.log"), load);

    for (const actor of ACTORS) {
      const replica = await startReplica(actor, "compiled", "mem", true);
      try {
        const idleMemory = await replica.memoryAfterGc();
        const idleRss = idleMemory.rss;
        if (actor === "tenants") await actorClient(client, tenantsContract).put({ policy: UNLIMITED_POLICY, expectedVersion: 0 }, { tenant: BENCH_TENANT });
        const operation = requestFor(actor, client);
        const readings: MemoryReading[] = [];
        // Two rounds: growth from the first is warm-up, growth from the second would be a leak.
        for (let round = 0; round < 2; round++) {
          const sent = await runFixedCount(operation, load.requests, load.concurrency);
          if (sent.errors > 0) process.stderr.write(`(r) ${actor}: ${sent.errors} of ${load.requests} requests failed, first: ${String(sent.firstError)}\n`);
          readings.push(await replica.memoryAfterGc());
        }
        const [afterFirst, afterSecond] = readings as [MemoryReading, MemoryReading];
        process.stdout.write(`    ${actor} idle:   ${breakdown(idleMemory)}\n    ${actor} after:  ${breakdown(afterFirst)}\n    ${actor} after2: ${breakdown(afterSecond)}\n`);
        const count = load.requests.toLocaleString("en-US");
        figures.push({ scenario: "(r)", name: `${actor} replica idle RSS (compiled)`, unit: "MB", value: idleRss / MB, baseline: "Moleculer node idle RSS", baselineValue: moleculerFigures.idle / MB });
        figures.push({ scenario: "(r)", name: `${actor} RSS after ${count} requests, GC'd`, unit: "MB", value: afterFirst.rss / MB, baseline: `${actor} idle`, baselineValue: idleRss / MB });
        figures.push({ scenario: "(r)", name: `${actor} RSS after ${count} more, GC'd`, unit: "MB", value: afterSecond.rss / MB, baseline: `after the first ${count}`, baselineValue: afterFirst.rss / MB });
      } finally {
        await replica.stop();
      }
      // The next actors call these; the measured replica stays the only one of its actor.
      if (actor === "tenants") support.push(await env.startActor(tenantsActor, "bench-tenants-rep", "rep"));
      if (actor === "ai-capacity") support.push(await env.startActor(createAiCapacityActor(parseAiCapacityConfig({})), "bench-capacity-rep", "rep"));
    }
    figures.push(
      { scenario: "(r)", name: "Moleculer node RSS after requests, GC'd", unit: "MB", value: moleculerFigures.after / MB, baseline: "Moleculer node idle", baselineValue: moleculerFigures.idle / MB },
    );

    for (const actor of ACTORS) {
      const compiled: number[] = [];
      const tsx: number[] = [];
      for (let round = 0; round < load.starts; round++) {
        for (const [mode, times] of [["compiled", compiled], ["tsx", tsx]] as const) {
          const replica = await startReplica(actor, mode, `start${round}`, false);
          times.push(replica.readyMs);
          await replica.stop();
        }
      }
      figures.push({ scenario: "(r)", name: `${actor} replica start to ready (compiled)`, unit: "ms", value: median(compiled), baseline: "under tsx", baselineValue: median(tsx) });
    }
    return figures;
  } finally {
    for (const actor of support.reverse()) await actor.stop();
    client.close();
    await nc.close();
    await provider.stop();
  }
}

/** Where resident memory goes, in MB: V8's heap spaces (physical), its malloc, and off-heap buffers. */
function breakdown(memory: MemoryReading): string {
  const mb = (bytes: number) => (bytes / MB).toFixed(1);
  const spaces = Object.entries(memory.spaces).filter(([, bytes]) => bytes >= MB / 10).map(([name, bytes]) => `${name.replace(/_space$/, "")} ${mb(bytes)}`);
  return `rss ${mb(memory.rss)} = heap ${mb(memory.heapTotal)} (used ${mb(memory.heapUsed)}: ${spaces.join(", ")}), v8 malloc ${mb(memory.malloced)}, external ${mb(memory.external)} (array buffers ${mb(memory.arrayBuffers)}), rest ${mb(memory.rss - memory.heapTotal - memory.malloced)}`;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The Moleculer node, run like the replicas (compiled, plain node, the same flags), called through a Moleculer broker here. */
async function measureMoleculer(env: BenchEnvironment, script: string, logFile: string, load: ReplicaLoad): Promise<{ idle: number; after: number }> {
  const node = await startMeasuredProcess({
    nodeFlags: PRODUCTION_NODE_FLAGS, script, args: [], env: { ...PRODUCTION_ENV, NATS_URL: env.natsUrl, NATS_CREDS: env.natsCredsFile() },
    readyText: "moleculer node ready", logFile, gcHook: true,
  });
  const caller = new moleculer.ServiceBroker({ nodeID: `bench-caller-${process.pid}`, transporter: { type: "NATS", options: { url: env.natsUrl, authenticator: credsAuthenticator(readFileSync(env.natsCredsFile())) } }, logger: false });
  try {
    await caller.start();
    await caller.waitForServices(["bench-tenants"], 10_000);
    const idleMemory = await node.memoryAfterGc();
    const sent = await runFixedCount(() => caller.call("bench-tenants.get", { tenant: BENCH_TENANT }), load.requests, load.concurrency);
    if (sent.errors > 0) process.stderr.write(`(r) moleculer: ${sent.errors} of ${load.requests} requests failed, first: ${String(sent.firstError)}\n`);
    const afterMemory = await node.memoryAfterGc();
    process.stdout.write(`    moleculer idle:  ${breakdown(idleMemory)}\n    moleculer after: ${breakdown(afterMemory)}\n`);
    return { idle: idleMemory.rss, after: afterMemory.rss };
  } finally {
    await caller.stop();
    await node.stop();
  }
}
