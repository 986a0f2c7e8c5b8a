import { after } from "node:test";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { ConnectionOptions } from "@nats-io/nats-core";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { natsAuthFromCreds } from "../../runtime/auth/nats-credentials.ts";
import { OPERATOR_USER } from "../creds/identity-plan.ts";
import type { IssuedCredentials } from "../creds/issue-credentials.ts";
import { issueMeshCredentials } from "../creds/mesh-credentials.ts";
import { dropDatabasesWithPrefix, startMongoServer, startNatsCluster, startNatsServer, WORK_DIR, type NatsCluster, type RestartableNats, type RunningServer } from "../servers/index.ts";

export interface TestServers {
  /** The server's URL; with a cluster, every node's URL comma-separated (as NATS_URL takes them). */
  readonly natsUrl: string;
  readonly mongoUrl: string;
  /** Unique per call: prefix every database name with it so tests never see each other's data. */
  readonly databasePrefix: string;
  /** The single server; with a cluster, its first node. */
  readonly nats: RestartableNats;
  /** Set when the file asked for a cluster. */
  readonly cluster: NatsCluster | undefined;
  /** Every user of this server's mesh: the operator, each actor, `demo-service`, `lease-service`, tenants acme and globex. */
  readonly credentials: IssuedCredentials;
  /** Connection options for a user (default the operator, who may do anything in the mesh account). */
  natsOptions(user?: string): ConnectionOptions;
  /** A connection as that user, closed by the `after` hook. */
  connectNats(user?: string, options?: ConnectionOptions): Promise<NatsConnection>;
  /**
   * Registers cleanup that must run while the servers are still up (stopping actor replicas).
   * Runs last-in first-out, before the servers stop. Node runs `after` hooks in the order they
   * were registered, so a plain `after` added later would only run once NATS is gone.
   */
  onCleanup(cleanup: () => Promise<unknown> | unknown): void;
}

const testWorkDir = join(WORK_DIR, "test");

/**
 * Real servers for one test file. MongoDB is shared by the whole run (the runner sets
 * MONGO_URL; databases are isolated by a unique prefix). NATS is private to the file:
 * JetStream stream subjects are global to an account, so a fresh server is the only way
 * two files can both own the stream of an actor with the same name. It starts in ~50 ms.
 * Everything is stopped by an `after` hook, and databases with the prefix are dropped.
 * Call it at the top level of a test file (`const servers = await useTestServers()`):
 * an `after` registered inside a `before` hook would run at once.
 */
export async function useTestServers(options: { natsCluster?: number } = {}): Promise<TestServers> {
  const credentials = await issueMeshCredentials(join(testWorkDir, `creds-${randomBytes(4).toString("hex")}`), (grants) => ({
    ...grants,
    services: { ...grants.services, "lease-service": { calls: ["ai-capacity"], roles: ["lease-holder"] } },
    tenants: [...grants.tenants, "globex"],
  }));
  const cluster = options.natsCluster ? await startNatsCluster(testWorkDir, { credentials, size: options.natsCluster }) : undefined;
  const nats = cluster ? cluster.nodes[0]! : await startNatsServer(testWorkDir, { credentials });
  const natsUrl = cluster ? cluster.url : nats.url;
  let mongo: RunningServer | undefined;
  let mongoUrl = process.env.MONGO_URL;
  if (!mongoUrl) {
    mongo = await startMongoServer(testWorkDir);
    mongoUrl = mongo.url;
  }
  const databasePrefix = `t${randomBytes(4).toString("hex")}`;
  const url = mongoUrl;
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await Promise.resolve().then(cleanup).catch(() => {});
    await dropDatabasesWithPrefix(url, databasePrefix).catch(() => {});
    await (cluster ?? nats).stop();
    await mongo?.stop();
  });
  const natsOptions = (user = OPERATOR_USER): ConnectionOptions => {
    const credsFile = credentials.credsFiles[user];
    if (!credsFile) throw new Error(`no test credentials for user ${user}`);
    return { servers: natsUrl.split(","), ...natsAuthFromCreds(credsFile) };
  };
  return {
    natsUrl, mongoUrl: url, databasePrefix, nats, cluster, credentials, natsOptions,
    async connectNats(user, options = {}) {
      const nc = await connect({ ...natsOptions(user), ...options });
      cleanups.push(() => nc.close());
      return nc;
    },
    onCleanup: (cleanup) => cleanups.push(cleanup),
  };
}

/** A private MongoDB-protocol server that a test may stop and start again (same port, same data). */
export async function usePrivateMongo(): Promise<{ url: string; stop(): Promise<void>; restart(): Promise<void> }> {
  let server = await startMongoServer(testWorkDir);
  const port = Number(new URL(server.url).port);
  const dataDir = server.dataDir!;
  after(() => server.stop());
  return {
    url: server.url,
    stop: () => server.stop(),
    async restart() {
      server = await startMongoServer(testWorkDir, { dataDir, port });
    },
  };
}
