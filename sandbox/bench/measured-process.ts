/**
 * A process the bench measures from outside: spawned with an IPC channel and `--expose-gc`, and
 * a hook preloaded from a `data:` URL (nothing of it ships in the product) that, when asked,
 * collects garbage twice (full mark-compact) and replies with the process's resident set size.
 * Start-up time is taken from spawn() to a line the process prints when it is ready.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { once } from "node:events";

const GC_REQUEST = "meshwork-bench:gc";
/**
 * After a full GC, V8 returns freed pages to the system from a background task, and glibc trims
 * its arenas as blocks are freed: the reading waits this long after each of two collections.
 */
const SETTLE_MS = Number(process.env.BENCH_GC_SETTLE_MS ?? 1000);
const gcHook = (settleMs: number) => `data:text/javascript,${encodeURIComponent(
  `import v8 from "node:v8";const settle=()=>new Promise((r)=>setTimeout(r,${settleMs}));` +
    `process.on("message",async(m)=>{if(m!==${JSON.stringify(GC_REQUEST)})return;globalThis.gc();await settle();globalThis.gc();await settle();` +
    `const spaces=Object.fromEntries(v8.getHeapSpaceStatistics().map((s)=>[s.space_name,s.physical_space_size]));` +
    `process.send({...process.memoryUsage(),spaces,malloced:v8.getHeapStatistics().malloced_memory});});`,
)}`;

export interface MeasuredProcessSpec {
  /** Node flags before the script (e.g. the production flags, or `--import tsx`). */
  readonly nodeFlags: readonly string[];
  readonly script: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** A line on stdout containing this means ready. */
  readonly readyText: string;
  /** stdout and stderr are appended here. */
  readonly logFile: string;
  /** Preload the GC hook (adds `--expose-gc`); off for start-up timing. */
  readonly gcHook: boolean;
  /** The pause after each collection (default SETTLE_MS); 0 when only the heap is read, not the resident set. */
  readonly gcSettleMs?: number;
}

export interface MemoryReading extends NodeJS.MemoryUsage {
  readonly spaces: Readonly<Record<string, number>>;
  readonly malloced: number;
}

export interface MeasuredProcess {
  readonly pid: number;
  /** Milliseconds from spawn() to the ready line. */
  readonly readyMs: number;
  /** Memory after two forced full garbage collections: process.memoryUsage() and V8's physical size per heap space, in bytes. Rejects if the process exits first. */
  memoryAfterGc(): Promise<MemoryReading>;
  /** True once the process has exited (by itself or after stop()). */
  hasExited(): boolean;
  /** SIGTERM, then waits for the exit; resolves the exit code. */
  stop(): Promise<number | null>;
}

function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return once(child, "exit").then(([code]) => code as number | null);
}

/** Starts the process and resolves once it printed its ready line; rejects if it exits first. */
export async function startMeasuredProcess(spec: MeasuredProcessSpec): Promise<MeasuredProcess> {
  const flags = spec.gcHook ? ["--expose-gc", "--import", gcHook(spec.gcSettleMs ?? SETTLE_MS), ...spec.nodeFlags] : [...spec.nodeFlags];
  const log = createWriteStream(spec.logFile, { flags: "a" });
  const began = performance.now();
  const child = spawn(process.execPath, [...flags, spec.script, ...spec.args], {
    env: { ...process.env, ...spec.env },
    stdio: ["ignore", "pipe", "pipe", ...(spec.gcHook ? ["ipc" as const] : [])],
  });
  child.stderr!.pipe(log, { end: false });
  const exited = exitOf(child);
  const readyMs = await new Promise<number>((resolve, reject) => {
    let pending = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      log.write(chunk);
      pending += chunk.toString("utf8");
      if (pending.includes(spec.readyText)) {
        resolve(performance.now() - began);
        pending = "";
      } else pending = pending.slice(-spec.readyText.length);
    });
    exited.then((code) => reject(new Error(`${spec.script} ${spec.args.join(" ")} exited (${code}) before it was ready; see ${spec.logFile}`)));
  });
  return {
    pid: child.pid!,
    readyMs,
    async memoryAfterGc() {
      if (!spec.gcHook) throw new Error("started without the GC hook");
      const reply = once(child, "message");
      child.send(GC_REQUEST);
      const [message] = (await Promise.race([reply, exited.then((code) => { throw new Error(`${spec.script} exited (${code}) before its memory was read; see ${spec.logFile}`); })])) as [MemoryReading];
      return message;
    },
    hasExited: () => child.exitCode !== null || child.signalCode !== null,
    async stop() {
      child.kill("SIGTERM");
      const code = await exited;
      log.end();
      return code;
    },
  };
}
