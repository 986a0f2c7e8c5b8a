/**
 * CPU per request of each process on the request/reply rows, read from /proc (Linux) while the
 * row's load runs, so that a side's cost shows apart from the machine's other load:
 *   npx tsx sandbox/bench/cpu-per-request.ts [--rows rr,peers] [--rounds 3] [--profile]
 * `--profile` runs the mesh caller and replica of (p) with `--cpu-prof` into .meshwork/bench/profile/
 * (their whole life; summarise with profile-summary.ts).
 * rr: bare `nc.request()` with noAsyncTraces (a') and the mesh (b), caller and responder in this
 * process. peers: the (p) processes, Moleculer's caller and node, the mesh caller and replica.
 * nats-server is read for every side. On 2 cores the sum is what decides throughput once both
 * cores are busy; in one process, this process's share decides it.
 */
import { execFileSync } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { processCpuMicros } from "./process-cpu.ts";
import { formatGrid } from "./report.ts";
import { BENCH_DIR, openBenchEnvironment, type BenchEnvironment } from "./bench-environment.ts";
import type { LoadOptions, LoadResult } from "./closed-loop.ts";
import { openBareEcho, openMeshEcho } from "./scenario-request-reply.ts";
import { buildPeerScript, startPeer, type Peer } from "./scenario-peers.ts";

const LOAD = { concurrency: 64, warmupMs: 500, measureMs: 2000 };

/** The nats-server listening on the URL's port (ss names the process that owns the socket). */
function natsServerPid(url: string): number {
  const port = new URL(url).port;
  const line = execFileSync("ss", ["-ltnpH", `sport = :${port}`], { encoding: "utf8" });
  const pid = /pid=(\d+)/.exec(line)?.[1];
  if (!pid) throw new Error(`no process found listening on port ${port}`);
  return Number(pid);
}

interface Row {
  side: string;
  throughput: number[];
  p99Ms: number[];
  /** µs of CPU per request, per process name. */
  cpu: Map<string, number[]>;
}

function addRound(row: Row, result: LoadResult, operations: number, spent: Map<string, number>): void {
  row.throughput.push(result.summary.throughput);
  row.p99Ms.push(result.summary.p99Ms);
  for (const [name, micros] of spent) {
    const list = row.cpu.get(name) ?? [];
    list.push(micros / operations);
    row.cpu.set(name, list);
  }
}

/** Runs `measure` with CPU read around it; operations over warm-up and window are estimated from the window's rate. */
async function measured(pids: Map<string, number>, measure: (load: LoadOptions) => Promise<LoadResult>): Promise<{ result: LoadResult; operations: number; spent: Map<string, number> }> {
  const before = new Map([...pids].map(([name, pid]) => [name, processCpuMicros(pid)]));
  const result = await measure(LOAD);
  const spent = new Map([...pids].map(([name, pid]) => [name, processCpuMicros(pid) - before.get(name)!]));
  const operations = result.summary.count * ((LOAD.warmupMs + LOAD.measureMs) / LOAD.measureMs);
  return { result, operations, spent };
}

async function inProcessRows(env: BenchEnvironment, rounds: number, nats: number): Promise<Row[]> {
  const sides = [
    { side: "bare noAsyncTraces (a'), one process", echo: await openBareEcho(env, true) },
    { side: "mesh (b), one process", echo: await openMeshEcho(env) },
  ];
  const rows: Row[] = sides.map(({ side }) => ({ side, throughput: [], p99Ms: [], cpu: new Map() }));
  const pids = new Map([["bench process", process.pid], ["nats-server", nats]]);
  try {
    for (let round = 0; round < rounds; round++) {
      for (const [index, { echo }] of sides.entries()) {
        const { result, operations, spent } = await measured(pids, (load) => echo.measure(load));
        addRound(rows[index]!, result, operations, spent);
      }
    }
  } finally {
    for (const { echo } of sides) await echo.close();
  }
  return rows;
}

async function peerRows(env: BenchEnvironment, rounds: number, nats: number, profile: boolean): Promise<Row[]> {
  const dir = join(BENCH_DIR, "peers");
  await mkdir(dir, { recursive: true });
  const script = await buildPeerScript(dir);
  const natsEnv = { NATS_URL: env.natsUrl, NATS_CREDS: env.natsCredsFile() };
  const actorEnv = {
    NATS_URL: env.natsUrl, NATS_CREDS: env.natsCredsFile("bench"), MONGO_URL: env.mongoUrl, MESHWORK_DB_PREFIX: `${env.databasePrefix}peers`,
    MESHWORK_INSTANCE_ID: "bench-cpu-echo", LOG_LEVEL: "info", METRICS_PORT: "0",
  };
  const profileDir = join(BENCH_DIR, "profile");
  const profiled = (name: string): string[] => profile ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${name}.cpuprofile`] : [];
  const started: Peer[] = [];
  const start = async (args: string[], extra: Record<string, string>, name: string, execArgv: string[] = []) => {
    const peer = await startPeer(script, args, extra, join(dir, `cpu-${name}.log`), execArgv);
    started.push(peer);
    return peer;
  };
  try {
    const moleculerNode = await start(["moleculer-echo"], natsEnv, "moleculer-echo");
    const moleculerCaller = await start(["moleculer-caller"], natsEnv, "moleculer-caller");
    const bareResponder = await start(["bare-echo"], natsEnv, "bare-echo");
    const bareCaller = await start(["bare-caller"], natsEnv, "bare-caller");
    const meshReplica = await start(["mesh-echo"], actorEnv, "mesh-echo", profiled("peers-mesh-replica"));
    const meshCaller = await start(["mesh-caller"], natsEnv, "mesh-caller", profiled("peers-mesh-caller"));
    const sides = [
      { side: "bare noAsyncTraces (p')", caller: bareCaller, pids: new Map([["caller", bareCaller.child.pid!], ["responder", bareResponder.child.pid!], ["nats-server", nats]]) },
      { side: "Moleculer (p)", caller: moleculerCaller, pids: new Map([["caller", moleculerCaller.child.pid!], ["responder", moleculerNode.child.pid!], ["nats-server", nats]]) },
      { side: "mesh (p)", caller: meshCaller, pids: new Map([["caller", meshCaller.child.pid!], ["responder", meshReplica.child.pid!], ["nats-server", nats]]) },
    ];
    const rows: Row[] = sides.map(({ side }) => ({ side, throughput: [], p99Ms: [], cpu: new Map() }));
    for (let round = 0; round < rounds; round++) {
      for (const [index, { caller, pids }] of sides.entries()) {
        const { result, operations, spent } = await measured(pids, (load) => caller.measure(load));
        addRound(rows[index]!, result, operations, spent);
      }
    }
    return rows;
  } finally {
    for (const peer of started.reverse()) await peer.stop().catch(() => undefined);
  }
}

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

/** Per-side medians, and the median over rounds of each side's CPU against the first side's in the same round. */
function printRows(rows: readonly Row[]): void {
  const names = [...new Set(rows.flatMap((row) => [...row.cpu.keys()]))];
  const roundSums = (row: Row) => row.throughput.map((_, round) => names.reduce((sum, name) => sum + (row.cpu.get(name)?.[round] ?? 0), 0));
  const baseSums = roundSums(rows[0]!);
  const header = ["side", "req/s", "x first side", "p99 ms", ...names.map((name) => `${name} µs/req`), "sum µs/req", "x first side"];
  const lines = rows.map((row) => {
    const perProcess = names.map((name) => median(row.cpu.get(name) ?? []));
    const ratio = median(roundSums(row).map((sum, round) => sum / baseSums[round]!));
    const throughputRatio = median(row.throughput.map((throughput, round) => throughput / rows[0]!.throughput[round]!));
    return [row.side, median(row.throughput).toFixed(0), throughputRatio.toFixed(2), median(row.p99Ms).toFixed(2), ...perProcess.map((v) => v.toFixed(1)), perProcess.reduce((a, b) => a + b, 0).toFixed(1), ratio.toFixed(2)];
  });
  process.stdout.write(`${formatGrid(header, lines)}\n(medians of ${rows[0]!.throughput.length} rounds; each ratio is the median over rounds of the side's figure against the first side's in the same round)\n\n`);
}

const { values } = parseArgs({ options: { rows: { type: "string", default: "rr,peers" }, rounds: { type: "string", default: "3" }, profile: { type: "boolean", default: false } } });
const wanted = new Set(values.rows.split(","));
const rounds = Number(values.rounds);
const env = await openBenchEnvironment();
try {
  const nats = natsServerPid(env.natsUrl);
  if (wanted.has("rr")) printRows(await inProcessRows(env, rounds, nats));
  if (wanted.has("peers")) printRows(await peerRows(env, rounds, nats, values.profile));
} finally {
  await env.close();
}
