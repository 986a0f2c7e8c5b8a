import { randomBytes } from "node:crypto";
import { connectNats } from "../client/connect-nats.ts";
import { PermissionViolationError, type NatsConnection } from "@nats-io/nats-core";
import { jetstreamManager } from "@nats-io/jetstream";
import type { Logger } from "pino";
import type { EventContract } from "../../protocol/contract.ts";
import { natsAuthFromCreds } from "../auth/nats-credentials.ts";
import { MeshClient } from "../client/mesh-client.ts";
import type { RuntimeConfig } from "../config.ts";
import { startServiceApi } from "../discovery/service-api.ts";
import { createEventPublisher, ensureDeadLetterStream, ensureEventStream } from "../events/index.ts";
import { createLogger } from "../observability/logger.ts";
import { ActorMetrics } from "../observability/metrics.ts";
import { BoundedLabels } from "../observability/bounded-labels.ts";
import { startHttpEndpoint } from "../observability/http-endpoint.ts";
import { createIdempotentRunner } from "../request/idempotent-runner.ts";
import { startRequestServer } from "../request/request-server.ts";
import { createActorStore, createMongoClient, databaseNameFor } from "../store/index.ts";
import type { ActorDefinition } from "../types.ts";
import { startConsumers } from "./consumers.ts";
import type { ActorEnvironment } from "./work-context.ts";
import { startTracing, traceStoreCalls, tracePublish, tracingEnabled } from "../observability/tracing.ts";

/** See ActorLimits.drainTimeoutMs. */
const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;
/** Distinct label values per replica in the AI usage metrics (service and model names come from callers). */
const MAX_TENANT_LABELS = 10_000;
const MAX_SERVICE_LABELS = 200;
const MAX_MODEL_LABELS = 100;

export interface RunningActor {
  readonly name: string;
  readonly instanceId: string;
  readonly log: Logger;
  readonly metrics: ActorMetrics;
  readonly metricsPort: number | undefined;
  readonly client: MeshClient;
  /** Graceful drain: stop taking work, finish in-flight requests and events, close connections. */
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly config: RuntimeConfig;
  readonly logger?: Logger;
}

/** The server refused something this replica tried (its definition does not grant it): always worth a warning. */
function logPermissionViolations(nc: NatsConnection, log: Logger): void {
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === "error" && status.error instanceof PermissionViolationError) {
        log.warn({ operation: status.error.operation, subject: status.error.subject, queue: status.error.queue }, "NATS permission violation");
      }
    }
  })().catch(() => undefined); // ends with the connection
}

/** Starts one replica of an actor: store, streams, consumers, request handlers, discovery, metrics. */
export async function startActor(definition: ActorDefinition, { config, logger }: StartOptions): Promise<RunningActor> {
  const instanceId = config.instanceId ?? randomBytes(8).toString("hex");
  const log = logger ?? createLogger({ actor: definition.name, instance: instanceId, level: config.logLevel });
  const metrics = new ActorMetrics(definition.name, instanceId);
  // NATS_URL may list several servers, comma-separated (a cluster).
  const nc = await connectNats({ servers: config.natsUrl.split(","), ...(config.natsCreds ? natsAuthFromCreds(config.natsCreds) : {}), name: `${definition.name}-${instanceId}`, maxReconnectAttempts: -1,
    // Async stack traces cost two Error objects per request, publish and ack (half the caller's CPU in the bench).
    noAsyncTraces: true });
  if (config.otlpEndpoint) await startTracing({ endpoint: config.otlpEndpoint, serviceName: definition.name });
  const mongo = createMongoClient(config.mongoUrl);
  traceStoreCalls(mongo, definition.name);
  const closers: Array<() => Promise<void> | void> = [];
  try {
    const store = createActorStore({
      client: mongo,
      actor: definition.name,
      prefix: config.databasePrefix,
      collections: definition.collections,
      onBreakerStateChange: (state) => log.warn({ breaker: "mongodb", state }, "database circuit changed state"),
    });
    await store.ensureIndexes();
    closers.push(store.startExpirySweeper());
    const client = new MeshClient(nc, { service: definition.name });
    logPermissionViolations(nc, log);
    const jsm = await jetstreamManager(nc);
    const ownsEvents = Object.keys(definition.contract.events).length > 0;
    if (ownsEvents) await ensureEventStream(jsm, definition.name, { replicas: config.streamReplicas });
    const publisher = createEventPublisher(nc, { actor: definition.name });
    const aiLabels = { tenant: new BoundedLabels(MAX_TENANT_LABELS), service: new BoundedLabels(MAX_SERVICE_LABELS), model: new BoundedLabels(MAX_MODEL_LABELS) };
    const environment: ActorEnvironment = {
      actor: definition.name,
      instance: instanceId,
      log,
      store,
      client,
      recordAiUsage(tenant, usage) {
        metrics.addAiUsage({ tenant: aiLabels.tenant.value(tenant), service: aiLabels.service.value(usage.service), model: aiLabels.model.value(usage.model) }, usage);
      },
      publishEvent: tracingEnabled()
        ? (event, payload, meta) => tracePublish(definition.name, event.subject, meta, async (traceparent) => {
          await publisher.publish(event, payload, { ...meta, traceparent, service: definition.name });
        })
        : async (event, payload, meta) => {
          await publisher.publish(event, payload, { ...meta, service: definition.name });
        },
    };
    const stopHook = await definition.onStart?.({
      store, log, mesh: client,
      publish: (event, payload, meta) => environment.publishEvent(event, payload, { eventId: meta.eventId, tenant: meta.tenant ?? "", traceparent: meta.traceparent ?? "" }),
    });
    if (stopHook) closers.push(stopHook);

    const consumers = definition.consumers?.length
      ? await (async () => {
          await ensureDeadLetterStream(jsm, definition.name, config.streamReplicas);
          return startConsumers({ nc, definition, environment, metrics, db: mongo.db(databaseNameFor(definition.name, config.databasePrefix)), streamReplicas: config.streamReplicas });
        })()
      : undefined;
    const server = startRequestServer({
      nc, definition, environment, metrics,
      idempotency: createIdempotentRunner(store.idempotency, definition.limits?.idempotencyTtlMs ?? 24 * 3600_000),
      maxInFlight: config.maxInFlight ?? definition.limits?.maxInFlight ?? 64,
    });
    const discovery = startServiceApi(nc, {
      name: definition.name, id: instanceId, version: definition.version, description: definition.description, metadata: {},
    }, () => server.endpoints);
    // The subscriptions reach the server with this round trip: once started, a request finds them
    // (without it, a caller starting at once could get "no responders").
    await nc.flush();
    let stopping = false;
    const http = config.metricsPort >= 0
      ? await startHttpEndpoint(config.metricsPort, metrics.registry, {
          healthy: () => !nc.isClosed(),
          ready: async () => !stopping && !nc.isClosed() && (await store.ready().then(() => true, () => false)),
        }, config.metricsHost)
      : undefined;
    log.info({ endpoints: server.endpoints.map((e) => e.subject), metricsPort: http?.port }, "actor started");

    return {
      name: definition.name,
      instanceId,
      log,
      metrics,
      metricsPort: http?.port,
      client,
      async stop() {
        if (stopping) return;
        stopping = true;
        discovery.stop();
        await server.drain(definition.limits?.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS);
        await consumers?.stop();
        for (const close of closers.reverse()) await close();
        client.close();
        await http?.close();
        await nc.drain().catch(() => nc.close());
        await mongo.close();
        log.info("actor stopped");
        log.flush();
      },
    };
  } catch (error) {
    for (const close of closers.reverse()) await Promise.resolve(close()).catch(() => {});
    await nc.close();
    await mongo.close();
    throw error;
  }
}
