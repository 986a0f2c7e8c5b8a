/**
 * The servers and settings every scenario shares: one nats-server and one MongoDB-protocol
 * server for the whole run (from NATS_URL / MONGO_URL or started here), a private database
 * prefix, and actor logs at "info" into a file so logging costs what it costs in production.
 */
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import type { ConnectionOptions } from "@nats-io/nats-core";
import { jetstreamManager } from "@nats-io/jetstream";
import { pino, type Logger } from "pino";
import { createLogger, RuntimeConfigSchema, startActor, type RunningActor } from "../../runtime/index.ts";
import type { ActorDefinition } from "../../runtime/types.ts";
import { dropDatabasesWithPrefix, provideMongo, provideNats, WORK_DIR, type RunningServer } from "../servers/index.ts";
import { natsAuthFromCreds } from "../../runtime/auth/nats-credentials.ts";
import { OPERATOR_USER } from "../creds/identity-plan.ts";
import { issueMeshCredentials } from "../creds/mesh-credentials.ts";

export const BENCH_DIR = join(WORK_DIR, "bench");

export interface BenchEnvironment {
  readonly natsUrl: string;
  /** Connection options of a mesh user (default the operator): authentication is on in the bench too. */
  natsOptions(user?: string): ConnectionOptions;
  /** A mesh user's creds file (default the operator's), for processes the bench starts. */
  natsCredsFile(user?: string): string;
  readonly mongoUrl: string;
  readonly databasePrefix: string;
  readonly logFile: string;
  /**
   * Starts one replica with info logs to the bench log file and metrics on. `databaseSuffix`
   * gives a scenario databases of its own, so what an earlier scenario stored (FerretDB scans
   * grow with collection size) does not slow a later one.
   */
  startActor(definition: ActorDefinition, instanceId: string, databaseSuffix?: string): Promise<RunningActor>;
  /** Deletes what the bench created (databases, streams) and stops the servers it started. */
  close(): Promise<void>;
}

/**
 * Streams only the bench owns; deleted at the end in case the NATS server was given by
 * NATS_URL. Streams of real actors (tenants, llm) are left alone on a shared server.
 */
const BENCH_STREAMS = ["EVENTS_BENCH", "DLQ_BENCH_SINK", "BARE_BENCH", "RELAY_BENCH"];

export async function openBenchEnvironment(): Promise<BenchEnvironment> {
  const serversDir = join(BENCH_DIR, "servers");
  const credentials = await issueMeshCredentials(process.env.MESHWORK_CREDS_DIR || join(BENCH_DIR, "creds"));
  const nats = await provideNats(credentials, process.env, serversDir);
  const natsOptions = (user = OPERATOR_USER): ConnectionOptions => ({ servers: nats.url, ...natsAuthFromCreds(credentials.credsFiles[user]!) });
  let mongo: RunningServer;
  try {
    mongo = await provideMongo(process.env, serversDir);
  } catch (error) {
    await nats.stop();
    throw error;
  }
  const databasePrefix = `bench${randomBytes(3).toString("hex")}`;
  const logFile = join(BENCH_DIR, "actors.log");
  const destination = pino.destination({ dest: logFile, sync: false, mkdir: true });
  const loggers: Logger[] = [];

  return {
    natsUrl: nats.url,
    natsOptions,
    natsCredsFile: (user = OPERATOR_USER) => credentials.credsFiles[user] ?? credentials.credsFiles[OPERATOR_USER]!,
    mongoUrl: mongo.url,
    databasePrefix,
    logFile,
    async startActor(definition, instanceId, databaseSuffix = "") {
      const logger = createLogger({ actor: definition.name, instance: instanceId, level: "info", destination });
      loggers.push(logger);
      const config = RuntimeConfigSchema.parse({
        natsUrl: nats.url, natsCreds: credentials.credsFiles[definition.name] ?? credentials.credsFiles[OPERATOR_USER], mongoUrl: mongo.url, databasePrefix: databasePrefix + databaseSuffix, instanceId, logLevel: "info", metricsPort: 0,
      });
      return startActor(definition, { config: Object.freeze(config), logger });
    },
    async close() {
      for (const logger of loggers) logger.flush();
      await dropDatabasesWithPrefix(mongo.url, databasePrefix).catch(() => undefined);
      await deleteStreams(natsOptions()).catch(() => undefined);
      await nats.stop();
      await mongo.stop();
      for (const server of [nats, mongo]) {
        if (server.dataDir?.startsWith(serversDir)) await rm(server.dataDir, { recursive: true, force: true });
      }
    },
  };
}

async function deleteStreams(options: ConnectionOptions): Promise<void> {
  const nc = await connect({ ...options, reconnect: false });
  try {
    const jsm = await jetstreamManager(nc);
    for (const name of BENCH_STREAMS) await jsm.streams.delete(name).catch(() => false);
  } finally {
    await nc.close();
  }
}
