/** The bench's pure parts on fixed numbers; the bench itself is never run in tests. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { storedAtFromAckSubject } from "./ack-monitor.ts";
import * as processCpu from "./process-cpu.ts";
import { profileWindow } from "./profile-summary.ts";
import { benchEntries, formatGrid, formatTable, type Comparison, type Measurement } from "./report.ts";
import { percentile, rateAfterWarmup, ratio, Samples, summarize } from "./stats.ts";
import { cpuBetween, cpuSnapshot } from "./window-cpu.ts";
import { simulate } from "./scaling-model.ts";

test("percentile uses the nearest rank", () => {
  const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(sorted, 0.5), 50);
  assert.equal(percentile(sorted, 0.99), 99);
  assert.equal(percentile(sorted, 1), 100);
  assert.equal(percentile(sorted, 0), 1);
  assert.equal(percentile([7], 0.99), 7);
  assert.ok(Number.isNaN(percentile([], 0.5)));
});

test("percentile and summarize refuse nonsense", () => {
  assert.throws(() => percentile([1, 2], 1.5), RangeError);
  assert.throws(() => percentile([1, 2], Number.NaN), RangeError);
  assert.throws(() => summarize([1], 0), RangeError);
});

test("summarize sorts the samples and reports throughput over the window", () => {
  const summary = summarize([5, 1, 3, 2, 4], 500);
  assert.equal(summary.count, 5);
  assert.equal(summary.throughput, 10);
  assert.equal(summary.p50Ms, 3);
  assert.equal(summary.p99Ms, 5);
  assert.equal(summary.meanMs, 3);
  assert.equal(summary.maxMs, 5);
  assert.ok(Number.isNaN(summarize([], 1000).p99Ms));
});

test("Samples grows past its first buffer", () => {
  const samples = new Samples();
  for (let i = 0; i < 3000; i++) samples.push(i);
  assert.equal(samples.length, 3000);
  assert.equal(samples.values()[2999], 2999);
});

test("rateAfterWarmup counts only the window after the warm-up and stops at the last event", () => {
  const times = Array.from({ length: 101 }, (_, i) => i * 10); // one event per 10 ms, 0..1000
  const capped = rateAfterWarmup(times, 200, 500); // window (200, 700]
  assert.equal(capped.count, 50);
  assert.equal(capped.windowMs, 500);
  assert.equal(capped.throughput, 100);
  const drained = rateAfterWarmup(times, 600, 10_000); // window (600, 1000]
  assert.equal(drained.count, 40);
  assert.equal(drained.windowMs, 400);
  assert.ok(Number.isNaN(rateAfterWarmup([], 10, 10).throughput));
  assert.ok(Number.isNaN(rateAfterWarmup([0, 5], 10, 10).throughput));
});

test("ratio is NaN without a baseline", () => {
  assert.equal(ratio(3, 2), 1.5);
  assert.ok(Number.isNaN(ratio(3, 0)));
  assert.ok(Number.isNaN(ratio(Number.NaN, 2)));
});

test("the stored time is read from v1 and v2 ack subjects", () => {
  assert.equal(storedAtFromAckSubject("$JS.ACK.S.C.1.42.42.1700000000123000000.0"), 1700000000123);
  assert.equal(storedAtFromAckSubject("$JS.ACK.dom.hash.S.C.1.42.42.1700000000123000000.0.tok"), 1700000000123);
  assert.ok(Number.isNaN(storedAtFromAckSubject("$JS.ACK.short")));
});

function measurement(label: string, throughput: number, p50Ms: number, p99Ms: number): Measurement {
  return { label, unit: "req/s", errors: 0, summary: { count: 1000, throughput, p50Ms, p99Ms, meanMs: p50Ms, maxMs: p99Ms } };
}

const comparisons: Comparison[] = [{
  scenario: "(a/b)",
  baseline: measurement("bare NATS request/reply", 20_000, 2, 4),
  subject: measurement("mesh request/reply", 30_000, 1.5, 5),
  latencyMeaning: "round trip",
}];

test("benchEntries gives one entry per figure with its baseline and ratio", () => {
  const entries = benchEntries(comparisons);
  assert.deepEqual(entries, [
    { name: "mesh request/reply throughput", unit: "req/s", value: 30_000, baseline: "bare NATS request/reply throughput", baseline_value: 20_000, ratio: 1.5 },
    { name: "mesh request/reply p50 latency", unit: "ms", value: 1.5, baseline: "bare NATS request/reply p50 latency", baseline_value: 2, ratio: 0.75 },
    { name: "mesh request/reply p99 latency", unit: "ms", value: 5, baseline: "bare NATS request/reply p99 latency", baseline_value: 4, ratio: 1.25 },
  ]);
  const missing = benchEntries([{ ...comparisons[0]!, baseline: measurement("nothing", 0, Number.NaN, Number.NaN) }]);
  assert.equal(missing[0]!.ratio, null);
});

test("formatTable prints the baseline, then the mesh line with its ratios, then the notes", () => {
  const lines = formatTable(comparisons).split("\n");
  assert.match(lines[0]!, /^measurement\s+unit\s+ops\/s\s+x base\s+p50 ms/);
  assert.match(lines[2]!, /^\(a\/b\) bare NATS request\/reply \(baseline\)\s+req\/s\s+20,000\s+2\.000\s+4\.000\s+0$/);
  assert.match(lines[3]!, /^\(a\/b\) mesh request\/reply\s+req\/s\s+30,000\s+1\.50x\s+1\.500\s+0\.75x\s+5\.000\s+1\.25x\s+0$/);
  assert.equal(lines[4], "(a/b) latency: round trip");
});

test("formatGrid pads columns to the widest cell", () => {
  assert.equal(formatGrid(["a", "b"], [["long", "1"], ["x", "22"]]), "a      b\n----  --\nlong   1\nx     22");
});

test("profileTimes sums self time per function and owner, and inclusive time once per stack", async () => {
  const { ownerOf, profileTimes } = await import("./profile-summary.ts");
  assert.equal(ownerOf("file:///x/node_modules/@nats-io/nats-core/lib/nats.js"), "@nats-io/nats-core");
  assert.equal(ownerOf("file:///x/node_modules/zod/v4/core/parse.js"), "zod");
  assert.equal(ownerOf("file:///work/main/runtime/client/mesh-client.ts"), "runtime/client/mesh-client.ts");
  assert.equal(ownerOf(""), "(native, gc, idle)");
  const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 0 });
  const times = profileTimes({
    nodes: [
      { id: 1, callFrame: frame("(root)", ""), children: [2] },
      { id: 2, callFrame: frame("request", "file:///w/runtime/client/mesh-client.ts"), children: [3] },
      { id: 3, callFrame: frame("request", "file:///w/runtime/client/mesh-client.ts"), children: [4] }, // recursion
      { id: 4, callFrame: frame("encode", "node:internal/encoding") },
    ],
    samples: [2, 3, 4, 4],
    timeDeltas: [1000, 1000, 1000, 1000],
  });
  assert.equal(times.totalMs, 4);
  assert.equal(times.selfByFunction.get("request  runtime/client/mesh-client.ts"), 2);
  assert.equal(times.inclusiveByFunction.get("request  runtime/client/mesh-client.ts"), 4);
  assert.equal(times.selfByOwner.get("node:internal/encoding"), 2);
});

test("poolRounds pools the samples and windows of several rounds", async () => {
  const { poolRounds } = await import("./closed-loop.ts");
  const round = (latencies: number[], windowMs: number, errors: number) => ({
    summary: summarize(latencies, windowMs), latenciesMs: Float64Array.from(latencies), windowMs, errors, firstError: errors ? "boom" : undefined,
  });
  const pooled = poolRounds([round([1, 2], 1000, 0), round([3, 4, 5, 6], 1000, 2)]);
  assert.equal(pooled.summary.count, 6);
  assert.equal(pooled.summary.throughput, 3);
  assert.equal(pooled.summary.p50Ms, 3);
  assert.equal(pooled.errors, 2);
  assert.equal(pooled.firstError, "boom");
  assert.throws(() => poolRounds([]), RangeError);
});

test("window CPU: a process that worked shows cores used, a pid that is gone is left out, a window needs both ends in order", { skip: process.platform !== "linux" }, () => {
  const gone = 2 ** 30; // above Linux's pid_max, so no process has it
  const start = cpuSnapshot([process.pid, gone]);
  assert.ok(start);
  let end = cpuSnapshot([process.pid, gone]);
  // Work until the kernel has counted at least one tick of it (its unit is 10 ms).
  while (end!.processTicks.get(process.pid)! <= start.processTicks.get(process.pid)!) end = cpuSnapshot([process.pid, gone]);
  const window = cpuBetween(start, end);
  assert.ok(window);
  assert.ok(window.processCores.get(process.pid)! > 0);
  assert.equal(window.processCores.has(gone), false);
  assert.ok(window.coresAvailable >= 1);
  assert.equal(cpuBetween(undefined, end), undefined);
  assert.equal(cpuBetween(end, start), undefined);
});

test("the scaling model: a saturated replica serves slots / service time; one replica never refuses its own callers", () => {
  const saturated = simulate({ replicas: 1, callersPerReplica: 16, transitMs: 1, routing: "random", simulatedMs: 5000 });
  assert.ok(Math.abs(saturated.throughput - 8 / 5.25 * 1000) < 10, String(saturated.throughput));
  assert.equal(saturated.refusals, 0);
  // Fewer callers than slots: each caller completes one request per service + transit time.
  const starved = simulate({ replicas: 1, callersPerReplica: 4, transitMs: 2, routing: "free-slot", simulatedMs: 5000 });
  assert.ok(Math.abs(starved.throughput - 4 / 7.25 * 1000) < 10, String(starved.throughput));
});

test("a /proc stat line is read after the command name, whatever the name holds", () => {
  // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
  const line = "4242 (node (worker) x) S 17 4242 17 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 11";
  assert.deepEqual(processCpu.parseProcStat(4242, line), { pid: 4242, parent: 17, cpuMs: 3250 });
});

test("cpuBetween reports only the processes that used CPU, largest first", () => {
  const before = new Map([[1, 100], [2, 50], [3, 10]]);
  const after = new Map([[1, 130], [2, 50], [3, 70], [4, 5]]);
  assert.deepEqual(processCpu.cpuBetween(before, after, (pid) => `p${pid}`), [
    { pid: 3, label: "p3", cpuMs: 60 }, { pid: 1, label: "p1", cpuMs: 30 }, { pid: 4, label: "p4", cpuMs: 5 },
  ]);
});

test("profileWindow keeps the samples taken inside the window only", () => {
  const profile = { nodes: [], startTime: 1000, samples: [1, 2, 3, 4], timeDeltas: [100, 100, 100, 100] };
  // Samples at 1100, 1200, 1300, 1400 µs.
  assert.deepEqual(profileWindow(profile, 1150, 1350), { nodes: [], startTime: 1150, endTime: 1350, samples: [2, 3], timeDeltas: [0, 100] });
  assert.deepEqual(profileWindow(profile, 5000, 6000).samples, []);
});

test("processCpuMicros reads a process's CPU time from /proc and findProcess finds a process by executable and argument", async () => {
  const { spawn } = await import("node:child_process");
  const { once } = await import("node:events").then((events) => events.default);
  const { findProcess, processCpuMicros } = await import("./process-cpu.ts");
  const before = processCpuMicros(process.pid);
  const until = process.cpuUsage().user + 50_000;
  while (process.cpuUsage().user < until); // 50 ms of CPU: more than one clock tick
  assert.ok(processCpuMicros(process.pid) > before);
  const marker = `bench-test-${process.pid}`;
  const named = spawn(process.execPath, ["-e", "setTimeout(() => {}, 30000)", marker]);
  try {
    await once(named, "spawn");
    const executable = process.execPath.slice(process.execPath.lastIndexOf("/") + 1);
    assert.equal(findProcess(executable, marker), named.pid);
    assert.equal(findProcess("no-such-executable", marker), undefined);
    assert.equal(findProcess(executable, `${marker}-other`), undefined);
  } finally {
    named.kill();
  }
});

test("processSyscalls counts this process's write system calls", async () => {
  const { writeSync } = await import("node:fs");
  const { processSyscalls } = await import("./process-cpu.ts");
  const before = processSyscalls(process.pid);
  writeSync(1, "");
  writeSync(1, "# processSyscalls\n");
  assert.ok(processSyscalls(process.pid).writes > before.writes);
});
