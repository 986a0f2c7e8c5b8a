/**
 * (p) request/reply across processes, the way a user compares frameworks: a Moleculer 0.15 node
 * with its NATS transporter and validator on answering an echo action, called from a second
 * Moleculer node; against one `bench` actor replica answering `bench.echo` (zod in and out),
 * called from a MeshClient in a second process. The same ~200-byte payload, the same 64 callers,
 * one nats-server; the sides take turns for `rounds` rounds, pooled per side.
 * (p') the same two processes with bare nats.js on both ends (`noAsyncTraces`, a callback
 * subscription that echoes the bytes): row (a'/b)'s baseline, with caller and responder in
 * processes of their own as services run, against the same mesh rounds as (p).
 * (s) I/O-bound scaling: replicas of `bench-io` (each request waits 5 ms; 8 at a time per
 * replica, a connection pool's bound), 1, 2 and 4 of them, called with as many callers per
 * replica as one replica admits (run.ts); throughput at N replicas against N times the
 * throughput of one, with what each window cost (CPU per process and of the machine, requests
 * each replica answered) printed beside it.
 * Every process is this file's bundle (peer-process.ts) run with plain `node`.
 */
import { fork, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/nats-core";
import { build } from "esbuild";
import { CHECKOUT_ROOT } from "../build/production-build.ts";
import { IO_MAX_IN_FLIGHT } from "./bench-actors.ts";
import { BENCH_DIR, type BenchEnvironment } from "./bench-environment.ts";
import { poolRounds, type LoadOptions, type LoadResult } from "./closed-loop.ts";
import type { Figure } from "./figures.ts";
import type { Comparison, Measurement } from "./report.ts";
import { summarize } from "./stats.ts";
import { cpuBetween, cpuSnapshot, type CpuSnapshot } from "./window-cpu.ts";

export interface PeerLoad {
  readonly echo: LoadOptions;
  readonly rounds: number;
  /** Load each side carries, unmeasured, before its first round (see run.ts). */
  readonly sideWarmUpMs: number;
  readonly scaling: { readonly replicas: readonly number[]; readonly callersPerReplica: number; readonly warmupMs: number; readonly measureMs: number };
}

const READY_TIMEOUT_MS = 30_000;

export interface Peer {
  readonly child: ChildProcess;
  measure(load: LoadOptions): Promise<LoadResult>;
  stop(): Promise<void>;
}

export async function startPeer(script: string, args: readonly string[], env: Record<string, string>, logFile: string, execArgv: readonly string[] = []): Promise<Peer> {
  const child = fork(script, args, { env: { ...process.env, ...env }, execArgv: [...execArgv], stdio: ["ignore", "pipe", "pipe", "ipc"] });
  const log = createWriteStream(logFile, { flags: "a" });
  child.stderr!.pipe(log);
  const lines = createInterface({ input: child.stdout! });
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(" ")}: not ready within ${READY_TIMEOUT_MS} ms (see ${logFile})`)), READY_TIMEOUT_MS);
    lines.on("line", (line) => {
      log.write(`${line}\n`);
      if (line === "ready") {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(" ")} exited with ${code} before it was ready (see ${logFile})`));
    });
  });
  try {
    await ready;
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  return {
    child,
    async measure(load) {
      const answer = once(child, "message") as Promise<[{ latenciesMs: number[]; windowMs: number; errors: number; firstError?: string }]>;
      child.send({ load: { concurrency: load.concurrency, warmupMs: load.warmupMs, measureMs: load.measureMs } });
      const [result] = await answer;
      const latenciesMs = Float64Array.from(result.latenciesMs);
      if (result.firstError) process.stderr.write(`    ${args.join(" ")}: ${result.errors} errors, first: ${result.firstError}\n`);
      return { summary: summarize(latenciesMs, result.windowMs), latenciesMs, windowMs: result.windowMs, errors: result.errors, firstError: result.firstError };
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      await exited;
      log.end();
    },
  };
}

/** Bundled like production (no per-closure naming helpers); packages stay in node_modules. */
export async function buildPeerScript(dir: string): Promise<string> {
  const script = join(dir, "peer-process.mjs");
  await build({ entryPoints: [join(CHECKOUT_ROOT, "sandbox/bench/peer-process.ts")], outfile: script, bundle: true, packages: "external", format: "esm", platform: "node", target: "node20", logLevel: "silent" });
  return script;
}

/** Requests each bench-io replica has answered so far, and how many of those were errors (OVERLOADED refusals). */
async function answeredByReplica(nc: NatsConnection, instances: readonly string[]): Promise<Array<{ answered: number; errors: number }>> {
  return Promise.all(instances.map(async (instance) => {
    const reply = await nc.request(`$SRV.STATS.bench-io.${instance}`, undefined, { timeout: 2000 });
    const stats = reply.json<{ endpoints: Array<{ num_requests: number; num_errors: number }> }>();
    return stats.endpoints.reduce((sum, e) => ({ answered: sum.answered + e.num_requests, errors: sum.errors + e.num_errors }), { answered: 0, errors: 0 });
  }));
}

function measurement(label: string, unit: string, result: LoadResult): Measurement {
  return { label, unit, summary: result.summary, errors: result.errors };
}

export async function benchPeers(env: BenchEnvironment, load: PeerLoad): Promise<{ comparisons: Comparison[]; figures: Figure[] }> {
  const dir = join(BENCH_DIR, "peers");
  await mkdir(dir, { recursive: true });
  const script = await buildPeerScript(dir);
  const natsEnv = (user?: string) => ({ NATS_URL: env.natsUrl, NATS_CREDS: env.natsCredsFile(user) });
  const actorEnv = (actor: string, instance: string) => ({
    ...natsEnv(actor), MONGO_URL: env.mongoUrl, MESHWORK_DB_PREFIX: `${env.databasePrefix}peers`, MESHWORK_INSTANCE_ID: instance, LOG_LEVEL: "info", METRICS_PORT: "0",
  });
  const started: Peer[] = [];
  const start = async (args: string[], extraEnv: Record<string, string>, name: string) => {
    const peer = await startPeer(script, args, extraEnv, join(dir, `${name}.log`));
    started.push(peer);
    return peer;
  };
  try {
    await start(["moleculer-echo"], natsEnv(), "moleculer-echo");
    const moleculerCaller = await start(["moleculer-caller"], natsEnv(), "moleculer-caller");
    await start(["mesh-echo"], actorEnv("bench", "bench-peer-echo"), "mesh-echo");
    const meshCaller = await start(["mesh-caller"], natsEnv(), "mesh-caller");
    await start(["bare-echo"], natsEnv(), "bare-echo");
    const bareCaller = await start(["bare-caller"], natsEnv(), "bare-caller");
    const bareRounds: LoadResult[] = [];
    const moleculerRounds: LoadResult[] = [];
    const meshRounds: LoadResult[] = [];
    for (const caller of [bareCaller, moleculerCaller, meshCaller]) await caller.measure({ ...load.echo, warmupMs: load.sideWarmUpMs, measureMs: 100 });
    for (let round = 0; round < load.rounds; round++) {
      bareRounds.push(await bareCaller.measure(load.echo));
      moleculerRounds.push(await moleculerCaller.measure(load.echo));
      meshRounds.push(await meshCaller.measure(load.echo));
    }
    const comparisons: Comparison[] = [{
      scenario: "(p)",
      baseline: measurement("Moleculer 0.15 request/reply, two processes", "req/s", poolRounds(moleculerRounds)),
      subject: measurement("mesh request/reply, two processes", "req/s", poolRounds(meshRounds)),
    }, {
      scenario: "(p')",
      baseline: measurement("bare NATS noAsyncTraces, two processes", "req/s", poolRounds(bareRounds)),
      subject: measurement("mesh request/reply, two processes", "req/s", poolRounds(meshRounds)),
    }];

    const figures: Figure[] = [];
    const scalingCaller = await start(["mesh-caller", "io"], natsEnv(), "io-caller");
    const throughputs = new Map<number, number>();
    const replicaPeers: Peer[] = [];
    const instances: string[] = [];
    const nc = await connect({ ...env.natsOptions(), noAsyncTraces: true });
    try {
      for (const wanted of [...load.scaling.replicas].sort((a, b) => a - b)) {
        while (replicaPeers.length < wanted) {
          const instance = `bench-io-${replicaPeers.length + 1}`;
          replicaPeers.push(await start(["mesh-echo", "io"], actorEnv("bench-io", instance), `io-replica-${replicaPeers.length + 1}`));
          instances.push(instance);
        }
        // What the window cost, beside the figure: each process's CPU, the machine's, and what each replica answered.
        const pids = [scalingCaller.child.pid!, ...replicaPeers.map((peer) => peer.child.pid!)];
        let cpuStart: CpuSnapshot | undefined;
        let answeredStart: Array<{ answered: number; errors: number }> = [];
        const windowOpens = new Promise<void>((resolve) => setTimeout(() => {
          cpuStart = cpuSnapshot(pids);
          void answeredByReplica(nc, instances).then((answered) => { answeredStart = answered; resolve(); }, () => resolve());
        }, load.scaling.warmupMs));
        const windowCloses = new Promise<CpuSnapshot | undefined>((resolve) => setTimeout(() => resolve(cpuSnapshot(pids)), load.scaling.warmupMs + load.scaling.measureMs));
        const result = await scalingCaller.measure({ concurrency: load.scaling.callersPerReplica * wanted, warmupMs: load.scaling.warmupMs, measureMs: load.scaling.measureMs });
        await windowOpens;
        const cpu = cpuBetween(cpuStart, await windowCloses);
        const answeredEnd = await answeredByReplica(nc, instances).catch(() => []);
        throughputs.set(wanted, result.summary.throughput);
        const perReplica = answeredEnd.length === answeredStart.length
          ? answeredEnd.map((end, i) => ({ answered: end.answered - answeredStart[i]!.answered, errors: end.errors - answeredStart[i]!.errors }))
          : [];
        const cores = (pid: number) => cpu?.processCores.get(pid)?.toFixed(2) ?? "?";
        process.stdout.write(`    bench-io, ${wanted} replica(s), ${load.scaling.callersPerReplica * wanted} callers: ${result.summary.throughput.toFixed(0)} req/s, p50 ${result.summary.p50Ms.toFixed(2)} ms, errors ${result.errors}\n`);
        if (perReplica.length > 0) {
          process.stdout.write(`      answered per replica (incl. a little after the window): ${perReplica.map((r) => r.answered).join(" / ")}; OVERLOADED refusals ${perReplica.reduce((sum, r) => sum + r.errors, 0)}\n`);
        }
        if (cpu) {
          process.stdout.write(`      CPU (cores): caller ${cores(pids[0]!)}, replicas ${pids.slice(1).map(cores).join(" / ")}; the whole machine ${cpu.machineCores.toFixed(2)} of ${cpu.coresAvailable}\n`);
        }
      }
    } finally {
      await nc.close();
    }
    const single = throughputs.get(1) ?? Number.NaN;
    for (const [count, throughput] of throughputs) {
      if (count === 1) continue;
      figures.push({
        scenario: "(s)",
        name: `I/O-bound actor (5 ms per request, ${IO_MAX_IN_FLIGHT} at a time per replica), ${count} replicas`,
        unit: "req/s", value: throughput, baseline: `${count} x one replica`, baselineValue: count * single,
      });
    }
    return { comparisons, figures };
  } finally {
    for (const peer of started.reverse()) await peer.stop().catch(() => undefined);
  }
}
