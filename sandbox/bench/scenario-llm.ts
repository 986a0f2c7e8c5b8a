/**
 * (f) what the llm actor adds to a completion: `llm.complete` through the mesh (policy and
 * prompt-token checks, capacity from the replica's share, the provider call, settlement, usage
 * event and call record) against the same request sent straight to the same test provider with
 * the `openai` SDK, 16 callers in flight either way. The provider answers at once (latency 0),
 * so the difference is all ours. The provider and the two llm replicas run as processes of
 * their own, as they would in production: the bench process holds only the callers (and
 * tenants and ai-capacity, off the per-call path with shares), so the comparison is not of
 * one process's CPU shared between caller and provider. The replicas run what production runs:
 * the esbuild bundle (`make build`'s `dist/actors/main.js llm`) with production's node flags and
 * environment; through tsx (which keeps function names with a helper call per closure) a replica
 * spent about 15% more CPU per call. Two more sides show the floor under
 * llm.complete: the same SDK call behind a bare NATS relay (2 processes, llm-relay-main.ts),
 * without and with one durable JetStream event per call, bundled and run the same way. The sides run in alternating
 * rounds, pooled per side, so a burst of load on the machine falls on all. Requests are not deterministic
 * (temperature 1), so the llm cache never answers.
 */
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect } from "@nats-io/transport-node";
import { build } from "esbuild";
import OpenAI from "openai";
import { llmContract } from "../../protocol/llm.ts";
import { tenantsContract } from "../../protocol/tenants.ts";
import { actorClient, connectNats, MeshClient, type RunningActor } from "../../runtime/index.ts";
import { createAiCapacityActor } from "../../actors/ai-capacity/actor.ts";
import { parseAiCapacityConfig } from "../../actors/ai-capacity/config.ts";
import { tenantsActor } from "../../actors/tenants/actor.ts";
import { BENCH_TENANT } from "./bench-actors.ts";
import { BENCH_DIR, type BenchEnvironment } from "./bench-environment.ts";
import { callRelay, ensureRelayStream, type RelayRequest } from "./llm-relay.ts";
import { poolRounds, runClosedLoop, type LoadOptions, type LoadResult } from "./closed-loop.ts";
import { startMeasuredProcess, type MeasuredProcess } from "./measured-process.ts";
import { cpuBetween, cpuOfTree } from "./process-cpu.ts";
import type { BenchEntry, Comparison } from "./report.ts";
import { UNLIMITED_POLICY } from "./scenario-leases.ts";
import { actorNodeFlags, buildProduction, PRODUCTION_ENV, PRODUCTION_NODE_FLAGS } from "../build/production-build.ts";

const MODEL = "gpt-4o-mini";
const MAX_TOKENS = 64;
const LLM_REPLICAS = 2;
const PROVIDER_MAIN = fileURLToPath(new URL("../provider/main.ts", import.meta.url));
const RELAY_MAIN = fileURLToPath(new URL("./llm-relay-main.ts", import.meta.url));
/** Where (f) bundles the actors and the relay before it starts them. */
const BUILD_DIR = join(BENCH_DIR, "llm-build");

function question(index: number): string {
  return `Bench question ${index}: summarise the quarterly report in two sentences.`;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The two sides of (f), running: each call issues one completion. */
export interface LlmSides {
  directCall(index: number): Promise<unknown>;
  meshCall(index: number): Promise<unknown>;
  /** The same SDK call behind the bare NATS relay, without and with its per-call event (only with `relay`). */
  relayCall(index: number): Promise<unknown>;
  relayEventCall(index: number): Promise<unknown>;
  /** `llm.complete` calls issued so far. */
  readonly completions: number;
  /** Lease requests ai-capacity has answered so far. */
  leasesServed(): Promise<number>;
  close(): Promise<void>;
}

export interface LlmSidesOptions {
  /** Node flags for each llm replica after production's (e.g. `--cpu-prof`). */
  readonly replicaNodeFlags?: readonly string[];
  /** Start the bare relay's processes too. */
  readonly relay?: boolean;
}

/** Starts the provider, tenants, ai-capacity and the llm replicas of (f), and the bench tenant. */
export async function openLlmSides(env: BenchEnvironment, options: LlmSidesOptions = {}): Promise<LlmSides> {
  const processes: MeasuredProcess[] = [];
  const started: Array<{ stop(): Promise<void> }> = [];
  const nc = await connectNats({ ...env.natsOptions(), name: "bench-llm" });
  const client = new MeshClient(nc, { service: "bench-caller", maxAttempts: 1, defaultTimeoutMs: 30_000 });
  // The relay's caller is bare nats.js at its fastest, as the other bare baselines.
  const relayNc = await connect({ ...env.natsOptions(), name: "bench-llm-relay-caller", noAsyncTraces: true });
  const close = async () => {
    for (const process of processes.slice(1).reverse()) await process.stop();
    for (const actor of started.reverse()) await actor.stop();
    await processes[0]?.stop();
    client.close();
    await nc.close();
    await relayNc.close();
  };
  try {
    const port = await freePort();
    processes.push(await startMeasuredProcess({
      nodeFlags: ["--import", "tsx"], script: PROVIDER_MAIN, args: ["--port", String(port)], env: {},
      readyText: '"baseURL"', logFile: join(BENCH_DIR, "llm-provider.log"), gcHook: false,
    }));
    const baseURL = `http://127.0.0.1:${port}/v1`;
    const sdk = new OpenAI({ baseURL, apiKey: "test", maxRetries: 0 });

    started.push(await env.startActor(tenantsActor, "bench-tenants-2", "llm"));
    const capacity = await env.startActor(createAiCapacityActor(parseAiCapacityConfig({})), "bench-capacity-2", "llm");
    started.push(capacity);
    await buildProduction(BUILD_DIR);
    for (let replica = 1; replica <= LLM_REPLICAS; replica++) {
      processes.push(await startMeasuredProcess({
        nodeFlags: [...PRODUCTION_NODE_FLAGS, ...actorNodeFlags("llm"), ...options.replicaNodeFlags ?? []], script: join(BUILD_DIR, "actors/main.js"), args: ["llm"], readyText: '"actor started"',
        logFile: join(BENCH_DIR, `llm-replica-${replica}.log`), gcHook: false,
        env: {
          ...PRODUCTION_ENV, NATS_URL: env.natsUrl, NATS_CREDS: env.natsCredsFile("llm"), MONGO_URL: env.mongoUrl, MESHWORK_DB_PREFIX: `${env.databasePrefix}llm`,
          MESHWORK_INSTANCE_ID: `bench-llm-${replica}`, LOG_LEVEL: "info", METRICS_PORT: "-1", OPENAI_BASE_URL: baseURL, OPENAI_API_KEY: "test",
        },
      }));
    }
    if (options.relay) {
      await ensureRelayStream(relayNc);
      const relayScript = join(BUILD_DIR, "llm-relay-main.js");
      await build({ entryPoints: [RELAY_MAIN], outfile: relayScript, bundle: true, packages: "external", format: "esm", platform: "node", target: "node20", logLevel: "silent" });
      for (let replica = 1; replica <= LLM_REPLICAS; replica++) {
        processes.push(await startMeasuredProcess({
          nodeFlags: PRODUCTION_NODE_FLAGS, script: relayScript, args: [], readyText: "ready relay",
          logFile: join(BENCH_DIR, `llm-relay-${replica}.log`), gcHook: false,
          env: { ...PRODUCTION_ENV, NATS_URL: env.natsUrl, NATS_CREDS: env.natsCredsFile(), OPENAI_BASE_URL: baseURL },
        }));
      }
    }
    await actorClient(client, tenantsContract).put({ policy: UNLIMITED_POLICY, expectedVersion: 0 }, { tenant: BENCH_TENANT });
    const llm = actorClient(client, llmContract);
    let completions = 0;
    const relayRequest = (index: number): RelayRequest => ({ model: MODEL, messages: [{ role: "user", content: question(index) }], maxTokens: MAX_TOKENS, temperature: 1 });
    return {
      directCall: (index) => sdk.chat.completions.create({
        model: MODEL, messages: [{ role: "user", content: question(index) }], max_tokens: MAX_TOKENS, temperature: 1,
      }),
      meshCall: (index) => (completions++, llm.complete({
        model: MODEL, messages: [{ role: "user", content: question(index) }], maxTokens: MAX_TOKENS, temperature: 1,
      }, { tenant: BENCH_TENANT })),
      relayCall: (index) => callRelay(relayNc, relayRequest(index), false),
      relayEventCall: (index) => callRelay(relayNc, relayRequest(index), true),
      get completions() {
        return completions;
      },
      leasesServed: () => leasesServed(capacity),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

export async function benchLlm(env: BenchEnvironment, load: LoadOptions, rounds: number, sideWarmUpMs: number): Promise<Comparison> {
  const sides = await openLlmSides(env, { relay: true });
  try {
    const leasesBefore = await sides.leasesServed();
    const runs = {
      direct: { call: sides.directCall, cpu: new WindowCpu(), rounds: [] as LoadResult[], label: "direct call" },
      relay: { call: sides.relayCall, cpu: new WindowCpu(), rounds: [] as LoadResult[], label: "bare relay call" },
      relayEvent: { call: sides.relayEventCall, cpu: new WindowCpu(), rounds: [] as LoadResult[], label: "bare relay call with its event" },
      mesh: { call: sides.meshCall, cpu: new WindowCpu(), rounds: [] as LoadResult[], label: "llm.complete" },
    };
    for (const run of Object.values(runs)) await runClosedLoop(run.call, { concurrency: load.concurrency, warmupMs: sideWarmUpMs, measureMs: 100 });
    for (let round = 0; round < rounds; round++) {
      for (const run of Object.values(runs)) run.rounds.push(await runClosedLoop(run.call, { ...load, onWindow: run.cpu }));
    }
    const leasesPerCall = (await sides.leasesServed() - leasesBefore) / sides.completions;
    const [direct, relay, relayEvent, mesh] = [runs.direct, runs.relay, runs.relayEvent, runs.mesh].map((run) => {
      const pooled = poolRounds(run.rounds);
      if (pooled.firstError) process.stderr.write(`(f) first error of the ${run.label}: ${String(pooled.firstError)}\n`);
      process.stderr.write(`(f) CPU per ${run.label}: ${run.cpu.perCall(pooled.summary.count)}\n`);
      return pooled;
    }) as [LoadResult, LoadResult, LoadResult, LoadResult];
    const againstDirect = (name: string, result: LoadResult): BenchEntry => ({
      name, unit: "calls/s", value: round3(result.summary.throughput), baseline: "direct openai SDK completion",
      baseline_value: round3(direct.summary.throughput), ratio: round3(result.summary.throughput / direct.summary.throughput),
    });
    return {
      scenario: "(f)",
      baseline: { label: "direct openai SDK completion", unit: "calls/s", summary: direct.summary, errors: direct.errors },
      subject: { label: "llm.complete", unit: "calls/s", summary: mesh.summary, errors: mesh.errors },
      latencyMeaning: `one completion from the caller's side, ${load.concurrency} in flight, ${LLM_REPLICAS} llm replicas, test provider at zero latency; added = llm.complete minus direct`,
      extraEntries: [
        { name: "llm.complete added p50 latency", unit: "ms", value: round3(mesh.summary.p50Ms - direct.summary.p50Ms), baseline: "target", baseline_value: 3, ratio: null },
        { name: "llm.complete added p99 latency", unit: "ms", value: round3(mesh.summary.p99Ms - direct.summary.p99Ms), baseline: "target", baseline_value: 10, ratio: null },
        // Shares at work, whatever the machine's load: ai-capacity leases (shares and per-call) per completion.
        { name: "ai-capacity leases per llm.complete", unit: "leases/call", value: round3(leasesPerCall), baseline: "one lease per call", baseline_value: 1, ratio: round3(leasesPerCall) },
        // The floor under llm.complete: the same SDK call behind bare NATS, and with the one durable event per call the design asks for.
        againstDirect("bare NATS relay of the same SDK call", relay),
        againstDirect("bare NATS relay + one JetStream event per call", relayEvent),
      ],
    };
  } finally {
    await sides.close();
  }
}

/**
 * CPU time of every process of the bench's tree summed over the measured windows of one side:
 * where a call's work lands (bench process = callers, tenants, ai-capacity; then the provider,
 * each llm replica, nats-server, FerretDB).
 */
export class WindowCpu {
  readonly #used = new Map<string, number>();
  #before: Map<number, number> | undefined;

  start = (): void => {
    this.#before = cpuOfTree();
  };

  end = (): void => {
    if (!this.#before) return;
    for (const { label, cpuMs } of cpuBetween(this.#before, cpuOfTree())) this.#used.set(label, (this.#used.get(label) ?? 0) + cpuMs);
    this.#before = undefined;
  };

  /** `label ms` per call for each process, largest first, and the total. */
  perCall(calls: number): string {
    const entries = [...this.#used].sort((a, b) => b[1] - a[1]);
    const total = entries.reduce((sum, [, ms]) => sum + ms, 0);
    const format = (ms: number) => (ms / Math.max(calls, 1)).toFixed(2);
    return `${format(total)} ms in all (${entries.map(([label, ms]) => `${label} ${format(ms)}`).join(", ")})`;
  }
}

/** Lease requests ai-capacity has answered (granted or refused), from its metrics. */
async function leasesServed(capacity: RunningActor): Promise<number> {
  const counter = await capacity.metrics.registry.getSingleMetric("mesh_requests_total")?.get();
  return (counter?.values ?? []).filter((value) => value.labels.subject === "ai-capacity.lease").reduce((total, value) => total + value.value, 0);
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
