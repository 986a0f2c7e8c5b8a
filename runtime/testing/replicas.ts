import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { Logger } from "pino";
import { startActor, type ActorDefinition, type RunningActor, RuntimeConfigSchema } from "../index.ts";
import type { TestServers } from "../../sandbox/testing/test-servers.ts";

const FIXTURE_MAIN = fileURLToPath(new URL("./fixture-main.ts", import.meta.url));

/** The actor's own credentials when the mesh has the actor, else the operator's (test fixtures). */
function credsFor(actor: string, servers: TestServers): string {
  return servers.credentials.credsFiles[actor] ?? servers.credentials.credsFiles.operator!;
}

/** Replicas in tests log nothing unless MESHWORK_TEST_LOG_LEVEL names a level (to read a failing test's replicas). */
const TEST_LOG_LEVEL = process.env.MESHWORK_TEST_LOG_LEVEL || "silent";

/** Starts an actor replica in this process for a test; stopped by an `after` hook. */
export async function startInProcess(definition: ActorDefinition, servers: TestServers, overrides: Record<string, unknown> = {}, logger?: Logger): Promise<RunningActor> {
  const config = Object.freeze(RuntimeConfigSchema.parse({
    natsUrl: servers.natsUrl, natsCreds: credsFor(definition.name, servers), mongoUrl: servers.mongoUrl, databasePrefix: servers.databasePrefix, logLevel: TEST_LOG_LEVEL, metricsPort: -1, ...overrides,
  }));
  const running = await startActor(definition, { config, ...(logger ? { logger } : {}) });
  servers.onCleanup(() => running.stop());
  return running;
}

export interface ReplicaProcess {
  readonly child: ChildProcess;
  readonly instanceId: string;
  readonly exited: Promise<unknown>;
}

/** Starts a fixture actor replica as a separate process (so a test can SIGKILL or SIGTERM it). */
export async function startReplicaProcess(fixture: string, servers: TestServers, env: Record<string, string> = {}): Promise<ReplicaProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", FIXTURE_MAIN, fixture], {
    env: {
      ...process.env, NATS_URL: servers.natsUrl, NATS_CREDS: credsFor(fixture, servers), MONGO_URL: servers.mongoUrl, MESHWORK_DB_PREFIX: servers.databasePrefix,
      LOG_LEVEL: "warn", METRICS_PORT: "-1", MESHWORK_INSTANCE_ID: `${fixture}-${Math.random().toString(36).slice(2, 8)}`, ...env,
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = once(child, "exit");
  servers.onCleanup(() => { if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL"); });
  const lines = createInterface({ input: child.stdout! });
  const ready = new Promise<string>((resolve, reject) => {
    // Keep reading after "ready": an unread pipe would fill up and stall the replica's logging.
    lines.on("line", (line) => { if (line.startsWith("ready ")) resolve(line.slice(6)); });
    lines.once("close", () => reject(new Error(`fixture ${fixture} exited before it was ready`)));
  });
  return { child, instanceId: await ready, exited };
}
