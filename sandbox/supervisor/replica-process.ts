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
  /** Added to this process's environment (NATS_URL, MONGO_URL, MESHWORK_INSTANCE_ID, ...). */
  readonly env: Readonly<Record<string, string>>;
}

/**
 * Starts `node --import tsx actors/main.ts <actor>` as a supervised child: it gets SIGTERM (and
 * drains) when stopped, and also when this process dies, so no replica outlives the sandbox.
 * spawnSupervised passes our own environment, so the replica's variables go through `env`.
 */
export function spawnReplica(spec: ReplicaSpec): SupervisedProcess {
  const assignments = Object.entries({ ...spec.env, MESHWORK_INSTANCE_ID: spec.instanceId }).map(([key, value]) => `${key}=${value}`);
  return spawnSupervised(`${spec.actor}/${spec.instanceId}`, "env", [
    ...assignments, process.execPath, "--import", TSX_LOADER, ACTOR_MAIN, spec.actor,
  ], spec.logFile);
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
