import { spawn, type ChildProcess } from "node:child_process";
import { openSync, closeSync, readFileSync } from "node:fs";
import { createServer } from "node:net";

/**
 * The server runs under a small shell watchdog that reads our stdin: when this
 * process exits for any reason (even SIGKILL) the pipe closes and the watchdog
 * terminates the server, so no server outlives its owner.
 */
const WATCHDOG = `
exec 3<&0
"$@" </dev/null &
child=$!
echo "$child" > "$PIDFILE"
( read _ignored <&3; kill -TERM "$child" 2>/dev/null ) &
watcher=$!
wait "$child"; code=$?
kill "$watcher" 2>/dev/null
exit $code
`;

export interface SupervisedProcess {
  readonly name: string;
  readonly logFile: string;
  readonly exited: Promise<number | null>;
  hasExited(): boolean;
  /** Sends a signal to the program itself (not its watchdog); false when it is gone. */
  signal?(signal: NodeJS.Signals): boolean;
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<SupervisedProcess>();
let hooksInstalled = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  const stopAll = (signal: NodeJS.Signals) => {
    void Promise.allSettled([...live].map((p) => p.stop(2000))).then(() => {
      process.exit(signal === "SIGINT" ? 130 : 143);
    });
  };
  // Only claim the signals when nobody else (a test runner, the sandbox) handles them.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    if (process.listenerCount(signal) === 0) process.once(signal, () => stopAll(signal));
  }
}

export interface SupervisedOptions {
  /** Added to this process's environment. */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Stop it from our own SIGINT/SIGTERM handler (default true). The sandbox turns it off for actor
   * replicas, which it drains itself before the servers stop.
   */
  readonly stopOnSignal?: boolean;
}

export function spawnSupervised(name: string, binary: string, args: string[], logFile: string, options: SupervisedOptions = {}): SupervisedProcess {
  const stopOnSignal = options.stopOnSignal ?? true;
  if (stopOnSignal) installExitHooks();
  const pidFile = `${logFile}.pid`;
  const log = openSync(logFile, "a");
  const child: ChildProcess = spawn("sh", ["-c", WATCHDOG, "sh", binary, ...args], {
    stdio: ["pipe", log, log],
    env: { ...process.env, ...options.env, PIDFILE: pidFile },
    // Its own process group: a Ctrl-C to ours must not stop the server before the actors
    // using it have drained. The watchdog still ends it when we exit.
    detached: true,
  });
  closeSync(log);
  let exitedFlag = false;
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => {
      exitedFlag = true;
      live.delete(handle);
      resolve(code);
    });
  });
  // The pipe must not keep our event loop alive on its own.
  child.stdin?.on("error", () => {});
  (child.stdin as unknown as { unref?: () => void })?.unref?.();
  child.unref();

  const handle: SupervisedProcess = {
    name,
    logFile,
    exited,
    hasExited: () => exitedFlag,
    signal: (signal) => !exitedFlag && signalFromPidFile(pidFile, signal),
    async stop(graceMs = 5000) {
      if (exitedFlag) return;
      child.ref(); // keep the event loop alive until the server is really gone
      child.stdin?.end();
      const timer = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), graceMs).unref());
      if ((await Promise.race([exited, timer])) === "timeout") {
        killFromPidFile(pidFile);
        await exited;
      }
    },
  };
  if (stopOnSignal) live.add(handle);
  return handle;
}

function killFromPidFile(pidFile: string): void {
  signalFromPidFile(pidFile, "SIGKILL");
}

function signalFromPidFile(pidFile: string, signal: NodeJS.Signals): boolean {
  try {
    const pid = Number(readFileSync(pidFile, "utf8").trim());
    if (!(pid > 0)) return false;
    process.kill(pid, signal);
    return true;
  } catch {
    return false; // already gone
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `probe` until it resolves true or the deadline passes. */
export async function waitUntil(probe: () => Promise<boolean>, timeoutMs: number, intervalMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return true;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return false;
}
