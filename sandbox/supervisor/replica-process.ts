import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { NatsConnection } from "@nats-io/nats-core";
import type { SupervisedProcess } from "../servers/supervised-process.ts";

/** The process entry of one replica, and tsx's loader by absolute path so the cwd does not matter. */
const ACTOR_MAIN = fileURLToPath(new URL("../../actors/main.ts", import.meta.url));
const TSX_LOADER = import.meta.resolve("tsx");

/**
 * Same watchdog as sandbox/servers/supervised-process.ts: the replica gets SIGTERM when our end of
 * its stdin pipe closes, which happens when we stop it and also when this process dies (even by
 * SIGKILL). The shell exits with the replica's own exit code.
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

export interface ReplicaSpec {
  readonly actor: string;
  readonly instanceId: string;
  readonly logFile: string;
  /** Added to this process's environment (NATS_URL, MONGO_URL, ...); MESHWORK_INSTANCE_ID is set here. */
  readonly env: Readonly<Record<string, string>>;
}

/**
 * Starts `node --import tsx actors/main.ts <actor>` with its output appended to `logFile` and its
 * pid in `<logFile>.pid`. It runs in its own process group, so a Ctrl-C at the terminal reaches
 * only the sandbox, which then drains replicas before it stops the servers.
 */
export function spawnReplica(spec: ReplicaSpec): SupervisedProcess {
  const pidFile = `${spec.logFile}.pid`;
  const log = openSync(spec.logFile, "a");
  const child = spawn("sh", ["-c", WATCHDOG, "sh", process.execPath, "--import", TSX_LOADER, ACTOR_MAIN, spec.actor], {
    stdio: ["pipe", log, log],
    detached: true,
    env: { ...process.env, ...spec.env, MESHWORK_INSTANCE_ID: spec.instanceId, PIDFILE: pidFile },
  });
  closeSync(log);
  child.stdin?.on("error", () => {});
  let exitedFlag = false;
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => {
      exitedFlag = true;
      resolve(code);
    });
  });
  return {
    name: `${spec.actor}/${spec.instanceId}`,
    logFile: spec.logFile,
    exited,
    hasExited: () => exitedFlag,
    async stop(graceMs = 15_000) {
      if (exitedFlag) return;
      child.stdin?.end();
      const timer = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), graceMs).unref());
      if ((await Promise.race([exited, timer])) === "timeout") {
        try {
          process.kill(Number(readFileSync(pidFile, "utf8").trim()), "SIGKILL");
        } catch {
          // gone already
        }
        await exited;
      }
    },
  };
}

const PING_TIMEOUT_MS = 500;
const PING_INTERVAL_MS = 200;

/**
 * Resolves true once the replica answers `$SRV.PING.<actor>.<id>` (it subscribes to its request
 * subjects before it starts the service API), false if it exits or the time runs out first.
 * actors/main.ts prints nothing when ready, so the service API is the readiness signal.
 */
export async function awaitReplicaReady(nc: NatsConnection, actor: string, instanceId: string, process: SupervisedProcess, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  const subject = `$SRV.PING.${actor}.${instanceId}`;
  while (Date.now() < deadline && !process.hasExited()) {
    try {
      await nc.request(subject, undefined, { timeout: PING_TIMEOUT_MS });
      return true;
    } catch {
      // not up yet (no responders) or slow: try again until the deadline
    }
    const exited = await Promise.race([
      process.exited.then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), PING_INTERVAL_MS)),
    ]);
    if (exited) return false;
  }
  return false;
}
