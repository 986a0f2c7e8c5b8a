/**
 * Profiles the request path while it is under the bench's load: the V8 sampling profiler runs
 * only during the measured window (not during start-up or warm-up), client and actor in one
 * process as in the bench. Writes a `.cpuprofile` (open it in Chrome DevTools or summarise it):
 *   npx tsx sandbox/bench/profile-request-path.ts [--bare [--tuned]] [--seconds 6]
 * (`--tuned`: the bare caller with `noAsyncTraces`, row (a').)
 *   npx tsx sandbox/bench/profile-summary.ts .meshwork/bench/profile/mesh-request-path.cpuprofile
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { BENCH_DIR, openBenchEnvironment } from "./bench-environment.ts";
import { openBareEcho, openMeshEcho } from "./scenario-request-reply.ts";
import { WindowProfiler } from "./window-profiler.ts";

const { values } = parseArgs({ options: { bare: { type: "boolean", default: false }, tuned: { type: "boolean", default: false }, seconds: { type: "string", default: "6" } } });
const kind = values.bare ? (values.tuned ? "bare-tuned" : "bare") : "mesh";
const profiler = await WindowProfiler.open();
const load = { concurrency: 64, warmupMs: 1500, measureMs: Number(values.seconds) * 1000, onWindow: profiler };
const env = await openBenchEnvironment();
try {
  const cpuBefore = process.cpuUsage();
  const side = values.bare ? await openBareEcho(env, values.tuned) : await openMeshEcho(env);
  const result = await side.measure(load);
  const cpu = process.cpuUsage(cpuBefore);
  await side.close();
  const { throughput, p50Ms, p99Ms, count } = result.summary;
  const cpuPerRequestUs = (cpu.user + cpu.system) / (count * (load.warmupMs + load.measureMs) / load.measureMs);
  process.stdout.write(`${kind}: ${throughput.toFixed(0)} req/s, p50 ${p50Ms.toFixed(3)} ms, p99 ${p99Ms.toFixed(3)} ms, `
    + `errors ${result.errors}, ~${cpuPerRequestUs.toFixed(1)} µs of this process's CPU per request\n`);
  const profile = await profiler.profile();
  const dir = join(BENCH_DIR, "profile");
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${kind}-request-path.cpuprofile`);
  await writeFile(file, JSON.stringify(profile));
  process.stdout.write(`profile: ${file}\n`);
} finally {
  profiler.close();
  await env.close();
}
