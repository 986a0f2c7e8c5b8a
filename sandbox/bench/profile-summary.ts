/**
 * Prints where a V8 `.cpuprofile` spends its time: self time summed per package or source
 * file, the functions with the most self time, and the time spent inside (inclusive) each
 * function of our own code.
 *   npx tsx sandbox/bench/profile-summary.ts <file.cpuprofile> [--top 25]
 */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { formatGrid } from "./report.ts";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime?: number;
  endTime?: number;
  samples?: number[];
  timeDeltas?: number[];
}

/**
 * The samples of `profile` taken between `fromUs` and `toUs` (V8's clock: CLOCK_MONOTONIC in
 * µs, the same as `process.hrtime.bigint() / 1000n` in any process of the machine), e.g. a
 * `node --cpu-prof` profile of a whole process cut to a bench's measured window.
 */
export function profileWindow(profile: CpuProfile, fromUs: number, toUs: number): CpuProfile {
  const samples: number[] = [];
  const timeDeltas: number[] = [];
  let at = profile.startTime ?? 0;
  const all = profile.samples ?? [];
  for (let i = 0; i < all.length; i++) {
    const delta = profile.timeDeltas?.[i] ?? 0;
    at += delta;
    if (at < fromUs || at > toUs) continue;
    samples.push(all[i]!);
    timeDeltas.push(samples.length === 1 ? 0 : delta);
  }
  return { ...profile, startTime: fromUs, endTime: toUs, samples, timeDeltas };
}

const OWN_CODE = /^(runtime|protocol|actors|sandbox)\//;

/** `…/node_modules/@nats-io/nats-core/lib/x.js` -> `@nats-io/nats-core`; our files keep their repo path. */
export function ownerOf(url: string): string {
  if (!url) return "(native, gc, idle)";
  if (url.startsWith("node:")) return url;
  const modules = url.lastIndexOf("node_modules/");
  if (modules >= 0) {
    const parts = url.slice(modules + "node_modules/".length).split("/");
    return parts[0]!.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  const match = /\/(runtime|protocol|actors|sandbox)\/.*$/.exec(url);
  return match ? match[0].slice(1) : url.replace(/^file:\/\//, "");
}

function nameOf(node: ProfileNode): string {
  return `${node.callFrame.functionName || "(anonymous)"}  ${ownerOf(node.callFrame.url)}`;
}

export interface ProfileTimes {
  readonly totalMs: number;
  readonly selfByOwner: Map<string, number>;
  readonly selfByFunction: Map<string, number>;
  /** Inclusive time per function name, each call stack counted once even when recursive. */
  readonly inclusiveByFunction: Map<string, number>;
}

export function profileTimes(profile: CpuProfile): ProfileTimes {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) selfMs.set(samples[i]!, (selfMs.get(samples[i]!) ?? 0) + (deltas[i] ?? 0) / 1000);

  const selfByOwner = new Map<string, number>();
  const selfByFunction = new Map<string, number>();
  const inclusiveByFunction = new Map<string, number>();
  let totalMs = 0;
  const add = (map: Map<string, number>, key: string, ms: number) => map.set(key, (map.get(key) ?? 0) + ms);

  // Depth-first from the roots, carrying the names already on the stack.
  const children = new Set(profile.nodes.flatMap((node) => node.children ?? []));
  const roots = profile.nodes.filter((node) => !children.has(node.id));
  function visit(node: ProfileNode, onStack: Set<string>): number {
    const name = nameOf(node);
    const own = selfMs.get(node.id) ?? 0;
    totalMs += own;
    add(selfByOwner, ownerOf(node.callFrame.url), own);
    add(selfByFunction, name, own);
    const outermost = !onStack.has(name);
    if (outermost) onStack.add(name);
    let inclusive = own;
    for (const child of node.children ?? []) inclusive += visit(nodes.get(child)!, onStack);
    if (outermost) {
      onStack.delete(name);
      add(inclusiveByFunction, name, inclusive);
    }
    return inclusive;
  }
  for (const root of roots) visit(root, new Set());
  return { totalMs, selfByOwner, selfByFunction, inclusiveByFunction };
}

function top(map: Map<string, number>, count: number, totalMs: number, keep: (name: string) => boolean = () => true): string[][] {
  return [...map].filter(([name]) => keep(name)).sort((a, b) => b[1] - a[1]).slice(0, count)
    .map(([name, ms]) => [name, ms.toFixed(0), `${((100 * ms) / totalMs).toFixed(1)}%`]);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: "string", default: "25" } } });
  const file = positionals[0];
  if (!file) throw new Error("usage: profile-summary.ts <file.cpuprofile> [--top N]");
  const times = profileTimes(JSON.parse(await readFile(file, "utf8")) as CpuProfile);
  const count = Number(values.top);
  const busyMs = times.totalMs - (times.selfByFunction.get(`(idle)  ${ownerOf("")}`) ?? 0);
  const header = ["", "ms", "share"];
  process.stdout.write(`sampled ${times.totalMs.toFixed(0)} ms, busy ${busyMs.toFixed(0)} ms\n\n`);
  process.stdout.write(`${formatGrid(["self time by package or file", ...header.slice(1)], top(times.selfByOwner, count, times.totalMs))}\n\n`);
  process.stdout.write(`${formatGrid(["self time by function", ...header.slice(1)], top(times.selfByFunction, count, times.totalMs))}\n\n`);
  const ours = (name: string) => OWN_CODE.test(name.split("  ")[1] ?? "");
  process.stdout.write(`${formatGrid(["inclusive time of our functions", ...header.slice(1)], top(times.inclusiveByFunction, count, times.totalMs, ours))}\n`);
}
