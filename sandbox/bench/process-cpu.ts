/**
 * CPU time of this process and every process it started (servers, provider, replicas), read
 * from /proc (user + system, all threads): which process a figure's work really lands in, in
 * ms per operation, whatever else loads the machine. Linux only; elsewhere it reads nothing.
 */
import { readdirSync, readFileSync } from "node:fs";

/** USER_HZ, the unit of /proc's CPU times: 100 on every Linux. */
export const TICKS_PER_SECOND = 100;

interface ProcStat {
  readonly pid: number;
  readonly parent: number;
  readonly cpuMs: number;
}

/** `/proc/<pid>/stat`; the command name may hold spaces and parentheses, so fields are read after its last `)`. */
export function parseProcStat(pid: number, text: string): ProcStat {
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // After the name: state(0) ppid(1) ... utime(11) stime(12), in clock ticks.
  return { pid, parent: Number(fields[1]), cpuMs: (Number(fields[11]) + Number(fields[12])) * 1000 / TICKS_PER_SECOND };
}

/** User plus system CPU of the whole process (all its threads) so far, in microseconds. */
export function processCpuMicros(pid: number): number {
  return parseProcStat(pid, readFileSync(`/proc/${pid}/stat`, "utf8")).cpuMs * 1000;
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

function readStat(pid: number): ProcStat | undefined {
  try {
    return parseProcStat(pid, readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return undefined;
  }
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");
  } catch {
    return "";
  }
}

/** CPU ms of `root` and its descendants, by pid. */
export function cpuOfTree(root = process.pid): Map<number, number> {
  let pids: number[];
  try {
    pids = readdirSync("/proc").filter((name) => /^\d+$/.test(name)).map(Number);
  } catch {
    return new Map();
  }
  const stats = pids.map(readStat).filter((stat): stat is ProcStat => stat !== undefined);
  const inTree = new Set([root]);
  // Parents before children is not guaranteed by pid order: repeat until nothing joins.
  for (let grew = true; grew;) {
    grew = false;
    for (const stat of stats) if (!inTree.has(stat.pid) && inTree.has(stat.parent)) grew = inTree.add(stat.pid) !== undefined;
  }
  return new Map(stats.filter((stat) => inTree.has(stat.pid)).map((stat) => [stat.pid, stat.cpuMs]));
}

export interface ProcessCpu {
  readonly pid: number;
  readonly label: string;
  readonly cpuMs: number;
}

/** CPU used between two readings of `cpuOfTree`, per process that used any, labelled from its command line. */
export function cpuBetween(before: Map<number, number>, after: Map<number, number>, label: (pid: number, command: string) => string = defaultLabel): ProcessCpu[] {
  const used: ProcessCpu[] = [];
  for (const [pid, cpuMs] of after) {
    const delta = cpuMs - (before.get(pid) ?? 0);
    if (delta > 0) used.push({ pid, label: label(pid, commandOf(pid)), cpuMs: delta });
  }
  return used.sort((a, b) => b.cpuMs - a.cpuMs);
}

function defaultLabel(pid: number, command: string): string {
  if (pid === process.pid) return "bench process";
  const words = command.split(" ");
  const program = words.find((word) => /nats-server|ferretdb|mongod|\.ts$|\.m?js$/.test(word)) ?? words[0] ?? String(pid);
  return program.slice(program.lastIndexOf("/") + 1);
}
