/**
 * Profiles scenario (f)'s `llm.complete` side under its load: prints the CPU each process of
 * the run used per completion (/proc), and writes `.cpuprofile`s of the bench process (callers,
 * tenants, ai-capacity) and of each llm replica (`node --cpu-prof`, cut to the measured window
 * as `replica-<pid>.cpuprofile`):
 * The direct side runs first (unprofiled) for comparison.
 *   npx tsx sandbox/bench/profile-llm-path.ts [--seconds 10] [--warmup 10]
 *   npx tsx sandbox/bench/profile-summary.ts .meshwork/bench/profile/llm/<file>.cpuprofile
 */
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { BENCH_DIR, openBenchEnvironment } from "./bench-environment.ts";
import { runClosedLoop, type LoadResult } from "./closed-loop.ts";
import { profileWindow, type CpuProfile } from "./profile-summary.ts";
import { openLlmSides, WindowCpu } from "./scenario-llm.ts";
import { WindowProfiler } from "./window-profiler.ts";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "10" }, warmup: { type: "string", default: "10" } } });
const dir = join(BENCH_DIR, "profile", "llm");
await rm(dir, { recursive: true, force: true });
await mkdir(dir, { recursive: true });
const profiler = await WindowProfiler.open();
const cpu = new WindowCpu();
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);
const window = { fromUs: 0, toUs: 0 };
const load = {
  concurrency: 16,
  warmupMs: Number(values.warmup) * 1000,
  measureMs: Number(values.seconds) * 1000,
  onWindow: {
    start: () => {
      cpu.start();
      window.fromUs = monotonicUs();
      profiler.start();
    },
    end: () => {
      cpu.end();
      window.toUs = monotonicUs();
      profiler.end();
    },
  },
};
function report(side: string, result: LoadResult, used: WindowCpu): void {
  const { throughput, p50Ms, p99Ms, count } = result.summary;
  process.stdout.write(`${side}: ${throughput.toFixed(0)} calls/s, p50 ${p50Ms.toFixed(2)} ms, p99 ${p99Ms.toFixed(2)} ms, errors ${result.errors}\n`);
  process.stdout.write(`  CPU per call: ${used.perCall(count)}\n`);
  if (result.firstError) process.stdout.write(`  first error: ${String(result.firstError)}\n`);
}

const env = await openBenchEnvironment();
try {
  const sides = await openLlmSides(env, { replicaNodeFlags: ["--cpu-prof", "--cpu-prof-dir", dir] });
  try {
    // The direct side first, unprofiled, for the same figures to compare with.
    const directCpu = new WindowCpu();
    const direct = await runClosedLoop(sides.directCall, { ...load, measureMs: Math.min(load.measureMs, 5000), onWindow: directCpu });
    report("direct", direct, directCpu);
    report("llm.complete", await runClosedLoop(sides.meshCall, load), cpu);
  } finally {
    await sides.close();
  }
  const profile = await profiler.profile();
  await writeFile(join(dir, "bench-process.cpuprofile"), JSON.stringify(profile));
  // --cpu-prof names files CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; thread 0 is the main one.
  for (const name of await readdir(dir)) {
    const match = /^CPU\.\d+\.\d+\.(\d+)\.0\.\d+\.cpuprofile$/.exec(name);
    if (!match) continue;
    const whole = JSON.parse(await readFile(join(dir, name), "utf8")) as CpuProfile;
    await writeFile(join(dir, `replica-${match[1]}.cpuprofile`), JSON.stringify(profileWindow(whole, window.fromUs, window.toUs)));
    await rm(join(dir, name));
  }
  process.stdout.write(`profiles: ${dir}\n`);
} finally {
  profiler.close();
  await env.close();
}
