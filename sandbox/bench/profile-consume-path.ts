/**
 * Where an event's consumption spends CPU: drains the bench's backlog (scenario (c/d) consume)
 * with the bare consumer, the mesh consumer (default dedupe) and the mesh consumer with
 * `dedupe: false`, in alternating rounds, and prints per side the drain rate and the CPU per
 * event of this process (and its read and write system calls), nats-server and the database server (from /proc, so other helpers'
 * load does not count). With `--profile <sides>` the V8 sampling profiler runs during those
 * sides' drains and writes a `.cpuprofile` of each side's last drain; `--allocations <sides>`
 * samples where memory is allocated the same way (a `.heapprofile`, for DevTools' Memory tab):
 *   npx tsx sandbox/bench/profile-consume-path.ts [--sides bare,mesh,idem] [--rounds 3] [--backlog 60000] [--profile mesh,bare] [--allocations mesh]
 *   npx tsx sandbox/bench/profile-summary.ts .meshwork/bench/profile/mesh-consume-path.cpuprofile
 */
import { mkdir, writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";
import { join } from "node:path";
import { constants as perfConstants, PerformanceObserver, type PerformanceEntry } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { startAckMonitor } from "./ack-monitor.ts";
import { benchIdempotentSinkActor } from "./bench-actors.ts";
import { BENCH_DIR, openBenchEnvironment } from "./bench-environment.ts";
import { findProcess, processCpuMicros, processSyscalls } from "./process-cpu.ts";
import { formatGrid } from "./report.ts";
import { bareSide, fillBacklog, meshSide, type Side } from "./scenario-events.ts";
import { rateAfterWarmup } from "./stats.ts";

const { values } = parseArgs({
  options: {
    sides: { type: "string", default: "bare,mesh,idem" },
    rounds: { type: "string", default: "3" },
    backlog: { type: "string", default: "60000" },
    profile: { type: "string" },
    allocations: { type: "string" },
  },
});
const sideNames = values.sides.split(",").map((name) => name.trim());
const rounds = Number(values.rounds);
const listOf = (text: string | undefined) => new Set((text ?? "").split(",").map((name) => name.trim()).filter(Boolean));
const profiled = listOf(values.profile);
const allocationsOf = listOf(values.allocations);
const backlog = Number(values.backlog);
const WARMUP_MS = 500;
const MEASURE_MS = 3000;
const START_SLACK_MS = 5000;

interface Totals {
  rates: number[];
  events: number;
  own: number;
  /** Milliseconds in minor (scavenge) and major (mark-compact) collections. */
  minorGc: number;
  majorGc: number;
  /** System calls of this process: socket reads and writes. */
  reads: number;
  writes: number;
  nats: number;
  database: number;
}

// Collections in this process, summed while a drain runs.
const gc = { minor: 0, major: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
    if (kind === perfConstants.NODE_PERFORMANCE_GC_MINOR) gc.minor += entry.duration;
    else gc.major += entry.duration;
  }
}).observe({ entryTypes: ["gc"] });

const env = await openBenchEnvironment();
const session = new Session();
session.connect();
await session.post("Profiler.enable");
const nc = await connect({ ...env.natsOptions(), name: "profile-consume" });
const monitorNc = await connect({ ...env.natsOptions(), name: "profile-consume-acks" });
try {
  const natsPort = new URL(env.natsUrl.split(",")[0]!).port;
  const mongoPort = new URL(env.mongoUrl).port;
  const natsPid = findProcess("nats-server", natsPort);
  const databasePid = findProcess("ferretdb", `127.0.0.1:${mongoPort}`) ?? findProcess("mongod", mongoPort);
  const cpuOf = (pid: number | undefined) => (pid === undefined ? Number.NaN : processCpuMicros(pid));
  const jsm = await jetstreamManager(nc);
  const sides: Record<string, () => Promise<Side>> = {
    bare: () => bareSide(nc, jsm),
    mesh: () => meshSide(env, nc, jsm),
    idem: () => meshSide(env, nc, jsm, benchIdempotentSinkActor),
  };
  const opened = new Map<string, Side>();
  for (const name of sideNames) opened.set(name, await sides[name]!());
  const totals = new Map<string, Totals>(sideNames.map((name) => [name, { rates: [], events: 0, own: 0, minorGc: 0, majorGc: 0, reads: 0, writes: 0, nats: 0, database: 0 }]));

  for (let round = 0; round < rounds; round++) {
    for (const name of sideNames) {
      const side = opened.get(name)!;
      const stored = await fillBacklog(side, 0, backlog, 64);
      const monitor = startAckMonitor(monitorNc, side.stream, side.durable);
      await monitorNc.flush();
      const profiling = profiled.has(name);
      if (profiling) await session.post("Profiler.start");
      const sampling = allocationsOf.has(name);
      if (sampling) await session.post("HeapProfiler.startSampling", { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
      const consumer = await side.startConsumer();
      const acksAtStart = monitor.acks;
      const before = { syscalls: processSyscalls(process.pid), own: process.cpuUsage(), nats: cpuOf(natsPid), database: cpuOf(databasePid), minorGc: gc.minor, majorGc: gc.major };
      await monitor.untilAcks(stored, START_SLACK_MS + 60_000);
      const own = process.cpuUsage(before.own);
      const after = { syscalls: processSyscalls(process.pid), nats: cpuOf(natsPid), database: cpuOf(databasePid), minorGc: gc.minor, majorGc: gc.major };
      const acks = monitor.acks - acksAtStart;
      await consumer.stop();
      monitor.stop();
      const dir = join(BENCH_DIR, "profile");
      await mkdir(dir, { recursive: true });
      if (profiling) {
        const { profile } = await session.post("Profiler.stop");
        await writeFile(join(dir, `${name}-consume-path.cpuprofile`), JSON.stringify(profile));
      }
      if (sampling) {
        const { profile } = await session.post("HeapProfiler.stopSampling");
        await writeFile(join(dir, `${name}-consume-path.heapprofile`), JSON.stringify(profile));
      }
      await jsm.streams.purge(side.stream);
      const total = totals.get(name)!;
      total.rates.push(rateAfterWarmup(monitor.ackTimes.values(), WARMUP_MS, MEASURE_MS).throughput);
      total.events += acks;
      total.own += own.user + own.system;
      total.minorGc += after.minorGc - before.minorGc;
      total.reads += after.syscalls.reads - before.syscalls.reads;
      total.writes += after.syscalls.writes - before.syscalls.writes;
      total.majorGc += after.majorGc - before.majorGc;
      total.nats += after.nats - before.nats;
      total.database += after.database - before.database;
    }
  }

  const median = (list: number[]) => [...list].sort((x, y) => x - y)[Math.floor(list.length / 2)] ?? Number.NaN;
  const bareRate = totals.has("bare") ? median(totals.get("bare")!.rates) : Number.NaN;
  const rows = sideNames.map((name) => {
    const total = totals.get(name)!;
    const rate = median(total.rates);
    const perEvent = (micros: number) => (micros / total.events).toFixed(1);
    return [name, rate.toFixed(0), Number.isFinite(bareRate) ? `${(rate / bareRate).toFixed(2)}x` : "", perEvent(total.own),
      `${perEvent(total.minorGc * 1000)} + ${perEvent(total.majorGc * 1000)}`, `${(total.reads / total.events).toFixed(2)} / ${(total.writes / total.events).toFixed(2)}`, perEvent(total.nats), perEvent(total.database),
      perEvent(total.own + total.nats + total.database)];
  });
  process.stdout.write(`${formatGrid(["side", "msg/s (median)", "x bare", "µs/event bench process", "of it GC minor + major", "syscalls/event read / write", "nats-server", "database", "sum"], rows)}\n`);
  for (const name of allocationsOf) process.stdout.write(`allocations of the last ${name} drain: ${join(BENCH_DIR, "profile", `${name}-consume-path.heapprofile`)}\n`);
  for (const name of profiled) process.stdout.write(`profile of the last ${name} drain: ${join(BENCH_DIR, "profile", `${name}-consume-path.cpuprofile`)}\n`);
} finally {
  session.disconnect();
  await monitorNc.close();
  await nc.close();
  await env.close();
}
