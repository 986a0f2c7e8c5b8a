/**
 * `make bench`: starts one NATS and one MongoDB-protocol server, runs every scenario against
 * them, prints the table and writes `.meshwork/bench.json`. Reports; never asserts.
 * `--only rr,events` runs a subset (rr, events, peers, leases, llm, usage, tenants, gateway, replicas).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { WORK_DIR } from "../servers/index.ts";
import { openBenchEnvironment, type BenchEnvironment } from "./bench-environment.ts";
import { figureEntries, formatFigures, type Figure } from "./figures.ts";
import { benchEntries, formatTable, type Comparison } from "./report.ts";
import { benchEvents } from "./scenario-events.ts";
import { benchLeases } from "./scenario-leases.ts";
import { benchGateway } from "./scenario-gateway.ts";
import { benchLlm } from "./scenario-llm.ts";
import { benchReplicas } from "./scenario-replicas.ts";
import { benchPeers } from "./scenario-peers.ts";
import { IO_MAX_IN_FLIGHT } from "./bench-actors.ts";
import { benchRequestReply } from "./scenario-request-reply.ts";
import { benchUsage } from "./scenario-usage.ts";
import { benchTenantGrowth } from "./scenario-tenants.ts";

/**
 * Load each side of (a/b), (p) and (f) carries, unmeasured, before its first round: processes
 * measured seconds after they start are still compiling their code. `perf` showed 20-27% of a
 * fresh llm replica's CPU in V8's optimising compiler 3 to 13 s into load, and its CPU per
 * completion fell from about 2 ms to 1.2 ms after 10 s of load. A service runs warm; so does
 * every side here, the baselines included.
 */
const SIDE_WARM_UP_MS = 8_000;
/** Per round; the three request/reply sides take turns for REQUEST_ROUNDS rounds. */
const REQUEST_LOAD = { concurrency: 64, warmupMs: 500, measureMs: 2000 };
const REQUEST_ROUNDS = 3;
const LEASE_LOAD = { concurrency: 16, warmupMs: 1500, measureMs: 5000 };
const LLM_LOAD = { concurrency: 16, warmupMs: 1000, measureMs: 3000 };
const LLM_ROUNDS = 3;
const USAGE_LOAD = { backlog: 10_000, drainRounds: 3, seeded: 200_000, report: { concurrency: 4, warmupMs: 500, measureMs: 3000 } };
const TENANT_LOAD = {
  get: { concurrency: 16, warmupMs: 1000, measureMs: 4000 }, getRounds: 3, putConcurrency: 16, few: 10, many: 10_000, putBaseline: 1_000, putRounds: 3,
};
const GATEWAY_LOAD = { http: { concurrency: 16, warmupMs: 1000, measureMs: 4000 }, llm: { concurrency: 4, warmupMs: 1000, measureMs: 4000 } };
const REPLICA_LOAD = { requests: 10_000, concurrency: 16, starts: 3 };
/**
 * Scaling (s): as many callers per replica as one replica admits (its slots and its queue as long
 * again); with fewer, a replica's slots are not all busy even alone. Each window is warmed as long as
 * the sides above: a replica that has just started costs nearly twice the CPU per request
 * (sandbox/bench/README.md, (s)).
 */
const PEER_LOAD = { echo: { concurrency: 64, warmupMs: 500, measureMs: 2000 }, rounds: 3, sideWarmUpMs: SIDE_WARM_UP_MS, scaling: { replicas: [1, 2, 4], callersPerReplica: 2 * IO_MAX_IN_FLIGHT, warmupMs: SIDE_WARM_UP_MS, measureMs: 3000 } };
const EVENT_LOAD = { publish: { concurrency: 64, warmupMs: 500, measureMs: 3000 }, warmupMs: 500, measureMs: 3000, maxPacedRate: 2000, backlog: 60_000, drainRounds: 5 };

/** Throughput and latency comparisons, or single figures (memory, start-up) against a baseline. */
type Result = Comparison | Figure;

interface Scenario {
  readonly key: string;
  readonly title: string;
  run(env: BenchEnvironment): Promise<Result[]>;
}

const isFigure = (result: Result): result is Figure => "baselineValue" in result;

const SCENARIOS: readonly Scenario[] = [
  { key: "rr", title: "(a/b) request/reply: bare (nats.js defaults, then noAsyncTraces), then mesh", run: (env) => benchRequestReply(env, REQUEST_LOAD, REQUEST_ROUNDS, SIDE_WARM_UP_MS) },
  { key: "events", title: "(c/d) events: bare JetStream, then the mesh publisher and consumer", run: (env) => benchEvents(env, EVENT_LOAD) },
  {
    key: "peers",
    title: "(p/s) across processes: Moleculer 0.15 and bare nats.js vs the mesh, request/reply; an I/O-bound actor at 1, 2 and 4 replicas",
    run: async (env) => {
      const { comparisons, figures } = await benchPeers(env, PEER_LOAD);
      return [...comparisons, ...figures];
    },
  },
  { key: "leases", title: "(e) leases: one-write request pairs, then ai-capacity lease+settle", run: async (env) => [await benchLeases(env, LEASE_LOAD)] },
  { key: "llm", title: "(f) llm: direct openai SDK calls, then llm.complete", run: async (env) => [await benchLlm(env, LLM_LOAD, LLM_ROUNDS, SIDE_WARM_UP_MS)] },
  { key: "usage", title: "(g) usage: drain and report with little stored, then with 200,000 more events of the tenant", run: (env) => benchUsage(env, USAGE_LOAD) },
  { key: "tenants", title: "(h/i) tenant growth: tenants.get with 10 vs 10,000 stored, putting 1,000 vs 10,000", run: (env) => benchTenantGrowth(env, TENANT_LOAD, progress) },
  { key: "gateway", title: "(j/k/l) the HTTP edge: bare Hono and Fastify servers, then the gateway; completions direct and through the gateway; first chunk of a stream", run: (env) => benchGateway(env, GATEWAY_LOAD) },
  { key: "replicas", title: "(r) replicas: a Moleculer node, then each actor's compiled replica (memory idle and after 10,000 requests; start-up compiled and under tsx)", run: (env) => benchReplicas(env, REPLICA_LOAD) },
];

function progress(text: string): void {
  process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${text}\n`);
}

function selectedScenarios(argv: string[]): readonly Scenario[] {
  const { values } = parseArgs({ args: argv, options: { only: { type: "string" } } });
  if (!values.only) return SCENARIOS;
  const keys = values.only.split(",").map((key) => key.trim());
  const unknown = keys.filter((key) => !SCENARIOS.some((scenario) => scenario.key === key));
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(", ")}; known: ${SCENARIOS.map((s) => s.key).join(", ")}`);
  return SCENARIOS.filter((scenario) => keys.includes(scenario.key));
}

async function main(): Promise<void> {
  const scenarios = selectedScenarios(process.argv.slice(2));
  const began = performance.now();
  progress("starting servers...");
  const env = await openBenchEnvironment();
  const results: Result[] = [];
  try {
    progress(`nats ${env.natsUrl}, mongo ${env.mongoUrl}, database prefix ${env.databasePrefix}, actor logs ${env.logFile}`);
    for (const scenario of scenarios) {
      progress(scenario.title);
      results.push(...(await scenario.run(env)));
    }
  } finally {
    await env.close();
  }
  const figures = results.filter(isFigure);
  const comparisons = results.filter((result): result is Comparison => !isFigure(result));
  if (comparisons.length > 0) process.stdout.write(`\n${formatTable(comparisons)}\n`);
  if (figures.length > 0) process.stdout.write(`\n${formatFigures(figures)}\n`);
  process.stdout.write("\n");
  const resultsFile = join(WORK_DIR, "bench.json");
  await mkdir(WORK_DIR, { recursive: true });
  await writeFile(resultsFile, `${JSON.stringify([...benchEntries(comparisons), ...figureEntries(figures)], null, 2)}\n`);
  progress(`wrote ${resultsFile} (${((performance.now() - began) / 1000).toFixed(0)} s in all)`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`make bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
