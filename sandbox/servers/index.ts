import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { natsAnswers, startNatsServer } from "./nats-server.ts";
import { mongoAnswers, startMongoServer } from "./mongo-server.ts";
import type { RunningServer } from "./types.ts";
import type { IssuedCredentials } from "../creds/issue-credentials.ts";
import { OPERATOR_USER } from "../creds/identity-plan.ts";

export type { RunningServer } from "./types.ts";
export { startNatsServer, type RestartableNats } from "./nats-server.ts";
export { startNatsCluster, type NatsCluster, type NatsClusterNode } from "./nats-cluster.ts";
export { dropDatabasesWithPrefix, startMongoServer } from "./mongo-server.ts";

/** The checkout's ignored work folder; everything the sandbox and tests write goes here. */
export const WORK_DIR = resolve(fileURLToPath(new URL("../../.meshwork", import.meta.url)));

function given(kind: "nats" | "mongo", url: string): RunningServer {
  return { kind, url, stop: async () => {} };
}

/**
 * Discovery order: NATS_URL, else nats-server on the PATH (>= 2.10), else the cached build. A
 * server given by URL must have been configured with `credentials.serverAuthFile`.
 */
export async function provideNats(credentials: IssuedCredentials, env: NodeJS.ProcessEnv = process.env, workDir = join(WORK_DIR, "servers")): Promise<RunningServer> {
  if (env.NATS_URL) {
    if (!(await natsAnswers(env.NATS_URL, credentials.credsFiles[OPERATOR_USER]!).catch(() => false))) {
      throw new Error(`NATS_URL=${env.NATS_URL} is set but no NATS server with JetStream answers there to the operator of ${credentials.dir}`);
    }
    return { ...given("nats", env.NATS_URL), credentials };
  }
  return startNatsServer(workDir, { credentials });
}

/** Discovery order: MONGO_URL, else mongod on the PATH, else FerretDB (SQLite) from the cache. */
export async function provideMongo(env: NodeJS.ProcessEnv = process.env, workDir = join(WORK_DIR, "servers")): Promise<RunningServer> {
  if (env.MONGO_URL) {
    if (!(await mongoAnswers(env.MONGO_URL).catch(() => false))) {
      throw new Error(`MONGO_URL=${env.MONGO_URL} is set but no MongoDB-protocol server answers ping there`);
    }
    return given("mongo", env.MONGO_URL);
  }
  return startMongoServer(workDir);
}
