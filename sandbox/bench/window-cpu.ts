/**
 * CPU used over a measured window, read from /proc (Linux): each given process (all its
 * threads, user + system) and the whole machine. Where /proc is missing the figures are absent.
 */
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { processCpuMicros, TICKS_PER_SECOND } from "./process-cpu.ts";


export interface CpuSnapshot {
  readonly at: number;
  readonly processTicks: ReadonlyMap<number, number>;
  readonly machineBusyTicks: number;
}

export interface WindowCpu {
  /** Cores each process kept busy on average over the window. */
  readonly processCores: ReadonlyMap<number, number>;
  /** Cores the whole machine kept busy (every process, ours and others'). */
  readonly machineCores: number;
  readonly coresAvailable: number;
}

function processTicks(pid: number): number | undefined {
  try {
    return processCpuMicros(pid) * TICKS_PER_SECOND / 1e6;
  } catch {
    return undefined;
  }
}

function machineBusyTicks(): number | undefined {
  try {
    const [, ...values] = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = values;
    return user + nice + system + irq + softirq + steal;
  } catch {
    return undefined;
  }
}

export function cpuSnapshot(pids: readonly number[]): CpuSnapshot | undefined {
  const machine = machineBusyTicks();
  if (machine === undefined) return undefined;
  const ticks = new Map<number, number>();
  for (const pid of pids) {
    const value = processTicks(pid);
    if (value !== undefined) ticks.set(pid, value);
  }
  return { at: performance.now(), processTicks: ticks, machineBusyTicks: machine };
}

export function cpuBetween(start: CpuSnapshot | undefined, end: CpuSnapshot | undefined): WindowCpu | undefined {
  if (!start || !end || end.at <= start.at) return undefined;
  const seconds = (end.at - start.at) / 1000;
  const cores = (ticks: number) => ticks / TICKS_PER_SECOND / seconds;
  const processCores = new Map<number, number>();
  for (const [pid, before] of start.processTicks) {
    const after = end.processTicks.get(pid);
    if (after !== undefined) processCores.set(pid, cores(after - before));
  }
  return { processCores, machineCores: cores(end.machineBusyTicks - start.machineBusyTicks), coresAvailable: availableParallelism() };
}
