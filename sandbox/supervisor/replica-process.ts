import { fileURLToPath } from "node:url";
import type { NatsConnection } from "@nats-io/nats-core";
import { spawnSupervised, type SupervisedProcess } from "../servers/supervised-process.ts";

/** The process entry of one replica, and tsx's loader by absolute path so the cwd does not matter. */
const ACTOR_MAIN = fileURLToPath(new URL("../../actors/main.ts", import.meta.url));
const TSX_LOADER = import.meta.resolve("tsx");

export interface ReplicaSpec {
  readonly actor: string;
  readonly instanceId: string;
  readonly logFile: string;
  /** Added to this process's environment (NATS_URL, MONGO_URL, ...); MESHWORK_INSTANCE_ID is set here. */
  readonly env: Readonly<Record<string, string>>;
}

/**
 * Starts `node --import tsx actors/main.ts <actor>` under the servers' watchdog (it dies with
 * this process, even by SIGKILL), its output appended to `logFile`, in its own process group so a
 * Ctrl-C at the terminal reaches only the sandbox, which drains replicas before the servers stop.
 */
export function spawnReplica(spec: ReplicaSpec): SupervisedProcess {
  return spawnSupervised(`${spec.actor}/${spec.instanceId}`, process.execPath, ["--import", TSX_LOADER, ACTOR_MAIN, spec.actor], spec.logFile, {
    env: { ...spec.env, MESHWORK_INSTANCE_ID: spec.instanceId },
    stopOnSignal: false,
  });
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
