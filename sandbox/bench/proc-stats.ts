/**
 * CPU time of other processes on this machine (Linux `/proc`), to say where an event's cost
 * goes when the consumer, nats-server and the database share the cores: read before and after a
 * window, divide the difference by the events handled in it.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  ticksPerSecond ??= Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  return ticksPerSecond;
}

/** User plus system CPU of the whole process (all its threads), in microseconds. */
export function processCpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may hold spaces; the fields after it start past its ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1e6) / clockTicks();
}

/** Read and write system calls the process made so far (socket reads and writes count). */
export function processSyscalls(pid: number): { reads: number; writes: number } {
  const io = readFileSync(`/proc/${pid}/io`, "utf8");
  const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, "m").exec(io)?.[1] ?? Number.NaN);
  return { reads: field("syscr"), writes: field("syscw") };
}

/**
 * The process whose executable's file name starts with `command` (the cache names binaries
 * `nats-server-v2.12.15`) and whose command line contains `argument` (a port, say). The servers
 * run under a watchdog shell with the same arguments, which this skips by its executable.
 */
export function findProcess(command: string, argument: string): number | undefined {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const [executable = "", ...args] = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (!executable.slice(executable.lastIndexOf("/") + 1).startsWith(command)) continue;
      if (args.some((arg) => arg.includes(argument))) return Number(entry);
    } catch {
      // The process ended while we looked.
    }
  }
  return undefined;
}
