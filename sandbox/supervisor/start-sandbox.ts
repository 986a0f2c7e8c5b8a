import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/nats-core";
import { actorNames as registeredActors } from "../../actors/index.ts";
import { startTestProvider, type TestProvider } from "../provider/test-provider.ts";
import { provideMongo, provideNats, WORK_DIR, type RunningServer } from "../servers/index.ts";
import { natsAuthFromCreds } from "../../runtime/auth/nats-credentials.ts";
import { OPERATOR_USER } from "../creds/identity-plan.ts";
import { issueMeshCredentials } from "../creds/mesh-credentials.ts";
import { natsContextDir, removeNatsContext, writeNatsContext } from "../creds/nats-context.ts";
import { silentSteps, type StepRunner } from "../demo/progress.ts";
import { DEMO_TENANTS } from "../demo/demo-tenants.ts";
import { serveControlChannel } from "./control-channel.ts";
import { startWebView, type WebView } from "../observe/web-view.ts";
import { ReplicaSupervisor, type SupervisorEvent } from "./replica-supervisor.ts";
import { apiKeyVariables, DEFAULT_GATEWAY_PORT, issueDemoKeys } from "./demo-keys.ts";
import { startGatewayBalancer } from "./gateway-balancer.ts";
import { readSandboxEnv, removeSandboxEnv, sandboxEnvPath, SCALE_SUBJECT, writerAlive, writeSandboxEnv } from "./sandbox-env.ts";

export interface SandboxOptions {
  /** Where sandbox.env, logs/ and servers/ go. Default: the checkout's .meshwork/. */
  readonly workDir?: string;
  /** Actors to run; default every actor in actors/index.ts. */
  readonly actors?: readonly string[];
  readonly replicas?: number;
  /** Where NATS_URL / MONGO_URL are looked up (a given server is used, not started). */
  readonly env?: NodeJS.ProcessEnv;
  /** Prefix of every actor database; default MESHWORK_DB_PREFIX, else "sandbox". */
  readonly databasePrefix?: string;
  readonly replicaLogLevel?: string;
  readonly readyTimeoutMs?: number;
  readonly steps?: StepRunner;
  readonly onEvent?: (event: SupervisorEvent) => void;
  /**
   * Where `mesh creds` output lives; default MESHWORK_CREDS_DIR, else `<workDir>/creds`. A NATS
   * server given by NATS_URL must have been configured from this folder's nats-auth.conf.
   */
  readonly credentialsDir?: string;
  /** Where the `nats` CLI context goes; default the CLI's own folder (see creds/nats-context.ts). */
  readonly natsContextDir?: string;
  /** Port of the web view on 127.0.0.1; default MESHWORK_WEB_PORT, else a free one. */
  readonly webPort?: number;
  /** The gateway's one local port (its replicas bind the next ones); default MESHWORK_GATEWAY_PORT, else 8480. */
  readonly gatewayPort?: number;
  /** Tenants that get a demo API key written to sandbox.env (with the gateway running). */
  readonly keyTenants?: readonly string[];
}

/** Gateway replicas bind the first free port after the balancer's, among this many. */
const GATEWAY_PORT_SPAN = 16;

/** The `nats` CLI context the sandbox writes: `nats --context meshwork-sandbox micro ls`. */
export const SANDBOX_CONTEXT = "meshwork-sandbox";

export interface Sandbox {
  readonly natsUrl: string;
  /** The operator's creds file (`NATS_CREDS` in sandbox.env). */
  readonly natsCreds: string;
  readonly mongoUrl: string;
  readonly databasePrefix: string;
  readonly provider: TestProvider;
  /** The sandbox's own connection (demo traffic, dashboard, control channel). */
  readonly nc: NatsConnection;
  readonly supervisor: ReplicaSupervisor;
  /** The web view (live page, OTLP trace receiver the replicas export to); `attach` starts its samples. */
  readonly web: WebView;
  readonly envFile: string;
  /** Actors with a replica that did not become ready at start (they keep being restarted). */
  readonly failedActors: readonly string[];
  /** With the gateway running: its URL (one port in front of every replica) and a demo key per tenant. */
  readonly gateway: { readonly url: string; readonly keys: Readonly<Record<string, string>> } | undefined;
  /** Stops the control channel, drains every replica, then the provider and the servers; removes sandbox.env. */
  stop(): Promise<void>;
}

async function refuseSecondSandbox(workDir: string): Promise<void> {
  const existing = await readSandboxEnv(sandboxEnvPath(workDir));
  if (existing && writerAlive(existing)) {
    throw new Error(`a sandbox is already running (pid ${existing.MESHWORK_SANDBOX_PID}, ${existing.NATS_URL}); join it with ${sandboxEnvPath(workDir)} or stop it first`);
  }
}

async function clearOldLogs(logDir: string): Promise<void> {
  await mkdir(logDir, { recursive: true });
  for (const name of await readdir(logDir)) {
    if (name.endsWith(".log") || name.endsWith(".log.pid")) await rm(join(logDir, name), { force: true });
  }
}

/** A server this sandbox started keeps its data for one run only: .meshwork/ does not grow run after run. */
async function stopAndForget(server: RunningServer): Promise<void> {
  await server.stop();
  if (server.dataDir) await rm(server.dataDir, { recursive: true, force: true });
}

/** Everything the sandbox runs, started in order and stopped in reverse. */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const workDir = options.workDir ?? WORK_DIR;
  const env = options.env ?? process.env;
  const step = options.steps ?? silentSteps;
  const actorNames = options.actors ?? registeredActors;
  const unknown = actorNames.filter((name) => !registeredActors.includes(name));
  if (unknown.length) throw new Error(`not in actors/index.ts: ${unknown.join(", ")}`);
  const replicas = options.replicas ?? 2;
  // Databases are named sandbox_<actor> unless told otherwise, so a shared MongoDB stays tidy.
  const databasePrefix = options.databasePrefix || env.MESHWORK_DB_PREFIX || "sandbox";
  await mkdir(workDir, { recursive: true });
  await refuseSecondSandbox(workDir);
  const logDir = join(workDir, "logs");
  await clearOldLogs(logDir);

  const cleanups: Array<() => Promise<void>> = [];
  const stopStarted = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  };
  try {
    const credentials = await step("NATS credentials", async (update) => {
      const issued = await issueMeshCredentials(options.credentialsDir ?? (env.MESHWORK_CREDS_DIR || join(workDir, "creds")));
      update(issued.dir);
      return issued;
    });
    const operatorCreds = credentials.credsFiles[OPERATOR_USER]!;
    const nats: RunningServer = await step("NATS server with JetStream", async (update) => {
      update(env.NATS_URL ? `joining ${env.NATS_URL}` : "starting (built with Go on first use)");
      const server = await provideNats(credentials, env, join(workDir, "servers"));
      update(server.url);
      return server;
    });
    cleanups.push(() => stopAndForget(nats));
    const mongo: RunningServer = await step("MongoDB-protocol server", async (update) => {
      update(env.MONGO_URL ? `joining ${env.MONGO_URL}` : "starting (FerretDB is built with Go on first use)");
      const server = await provideMongo(env, join(workDir, "servers"));
      update(server.url);
      return server;
    });
    cleanups.push(() => stopAndForget(mongo));
    const provider = await step("OpenAI-compatible test provider", async (update) => {
      const started = await startTestProvider();
      update(started.baseURL);
      return started;
    });
    cleanups.push(() => provider.stop());
    const nc = await connect({ servers: nats.url.split(","), ...natsAuthFromCreds(operatorCreds), name: "meshwork-sandbox", maxReconnectAttempts: -1 });
    cleanups.push(() => nc.drain().catch(() => nc.close()));
    const web = await step("web view and trace receiver", async (update) => {
      const started = await startWebView({ nc, port: options.webPort ?? (Number(env.MESHWORK_WEB_PORT) || 0) });
      update(started.url);
      return started;
    });
    cleanups.push(() => web.close());

    const withGateway = actorNames.includes("gateway");
    const gatewayPort = options.gatewayPort ?? Number(env.MESHWORK_GATEWAY_PORT || DEFAULT_GATEWAY_PORT);
    const balancer = withGateway
      ? await step("gateway port", async (update) => {
          const started = await startGatewayBalancer({
            port: gatewayPort, host: "127.0.0.1",
            replicaPorts: Array.from({ length: GATEWAY_PORT_SPAN }, (_, i) => gatewayPort + 1 + i),
          });
          update(`http://127.0.0.1:${started.port}`);
          return started;
        })
      : undefined;
    if (balancer) cleanups.push(() => balancer.close());

    let readyCount = 0;
    let onReady = () => {};
    const supervisor = new ReplicaSupervisor({
      nc,
      actors: actorNames,
      logDir,
      readyTimeoutMs: options.readyTimeoutMs,
      onEvent: (event) => {
        if (event.type === "ready") {
          readyCount++;
          onReady();
        }
        options.onEvent?.(event);
      },
      actorCreds: Object.fromEntries(actorNames.map((actor) => [actor, credentials.credsFiles[actor]!])),
      env: {
        NATS_URL: nats.url,
        NATS_CREDS: operatorCreds,
        MONGO_URL: mongo.url,
        MESHWORK_DB_PREFIX: databasePrefix,
        LOG_LEVEL: options.replicaLogLevel ?? "warn",
        METRICS_PORT: "0",
        OPENAI_BASE_URL: provider.baseURL,
        OPENAI_API_KEY: "sandbox-test-key",
        PROVIDER_URL: provider.url,
        // Every replica exports its spans to the web view's receiver (`mesh trace <id>`).
        OTEL_EXPORTER_OTLP_ENDPOINT: web.url,
        ...(balancer ? {
          GATEWAY_PORT: String(balancer.port + 1), GATEWAY_PORT_LAST: String(balancer.port + GATEWAY_PORT_SPAN), GATEWAY_REPLICAS: String(replicas),
        } : {}),
      },
    });
    cleanups.push(() => supervisor.stopAll());
    const failedActors = await step(`${actorNames.length} actors × ${replicas} replicas`, async (update) => {
      const total = actorNames.length * replicas;
      onReady = () => update(`${readyCount}/${total} ready`);
      onReady();
      const outcomes = await Promise.all(actorNames.map((actor) => supervisor.scale(actor, replicas)));
      onReady = () => {};
      return outcomes.filter((o) => o.failed.length > 0).map((o) => o.actor);
    });

    const control = serveControlChannel(nc, supervisor);
    cleanups.push(async () => control.stop());
    const contextDir = options.natsContextDir ?? natsContextDir(env);
    await writeNatsContext(SANDBOX_CONTEXT, { url: nats.url, credsFile: operatorCreds }, contextDir);
    cleanups.push(() => removeNatsContext(SANDBOX_CONTEXT, contextDir));
    const gateway = balancer && !failedActors.includes("gateway")
      ? { url: `http://127.0.0.1:${balancer.port}`, keys: await issueDemoKeys(nc, options.keyTenants ?? DEMO_TENANTS.map((tenant) => tenant.id)) }
      : undefined;
    const envFile = await writeSandboxEnv(workDir, {
      NATS_URL: nats.url,
      NATS_CREDS: operatorCreds,
      MONGO_URL: mongo.url,
      PROVIDER_URL: provider.url,
      OPENAI_BASE_URL: provider.baseURL,
      MESHWORK_DB_PREFIX: databasePrefix,
      MESHWORK_SANDBOX_PID: String(process.pid),
      MESHWORK_SCALE_SUBJECT: SCALE_SUBJECT,
      MESHWORK_WEB_URL: web.url,
      ...(gateway ? { MESHWORK_GATEWAY_URL: gateway.url, ...apiKeyVariables(gateway.keys) } : {}),
    });
    cleanups.push(() => removeSandboxEnv(workDir));

    let stopping: Promise<void> | undefined;
    return {
      natsUrl: nats.url,
      natsCreds: operatorCreds,
      mongoUrl: mongo.url,
      databasePrefix,
      provider,
      nc,
      supervisor,
      web,
      envFile,
      failedActors,
      gateway,
      stop: () => (stopping ??= stopStarted()),
    };
  } catch (error) {
    await stopStarted();
    throw error;
  }
}
