import { aiCapacityContract } from "../../protocol/ai-capacity.ts";
import { gatewayContract } from "../../protocol/gateway.ts";
import { llmContract } from "../../protocol/llm.ts";
import { tenantsContract } from "../../protocol/tenants.ts";
import { usageContract } from "../../protocol/usage.ts";
import { createTenantPolicyCache, defineActor } from "../../runtime/index.ts";
import { API_KEYS, apiKeys } from "./api-keys.ts";
import { gatewayConfigFromEnv, parseGatewayConfig, type GatewayConfig } from "./config.ts";
import { createEdgeRate } from "./edge-rate.ts";
import { createHttpApp } from "./http-app.ts";
import { createHttpMetrics } from "./http-metrics.ts";
import { startHttpServer } from "./http-server.ts";
import { createKeyCache } from "./key-cache.ts";
import { keyHandlers } from "./key-handlers.ts";

const VERSION = "1.0.0";
/** In-flight HTTP requests get this long to finish on SIGTERM (a streamed completion included). */
const HTTP_DRAIN_MS = 25_000;

export interface GatewayHandle {
  /** The HTTP port once started (useful with port 0). */
  port: number;
}

/**
 * The HTTP edge as an actor: it serves tenants over HTTP (OpenAI-compatible and every actor's
 * tenant-facing requests) and answers the operator's key administration over NATS. Stateless:
 * its only state is the key records in its own database.
 */
export function createGatewayActor(configInput: GatewayConfig | Parameters<typeof parseGatewayConfig>[0] = {}, handle: GatewayHandle = { port: 0 }) {
  const config = parseGatewayConfig(configInput);
  return defineActor({
    name: "gateway",
    version: VERSION,
    description: "HTTP edge: tenant API keys, every tenant-facing request over HTTP, the OpenAI API with streaming",
    contract: gatewayContract,
    collections: {
      // Looked up by `_id` = SHA-256 of the key (a point read); listed by tenant only by the operator.
      [API_KEYS]: { tenantOwned: false, indexes: [{ key: { tenant: 1, prefix: 1 }, unique: true, name: "one_prefix_per_tenant" }] },
    },
    handlers: keyHandlers,
    // Every tenant-facing request is reachable over HTTP; the price table for /v1/models.
    calls: [tenantsContract, llmContract, usageContract, aiCapacityContract],
    limits: { maxInFlight: 64 },
    async onStart({ store, log, mesh }) {
      let draining = false;
      const app = createHttpApp({
        config,
        mesh,
        keys: createKeyCache(apiKeys(store), config.keyCacheMs),
        policies: createTenantPolicyCache(config.policyCacheMs),
        rate: createEdgeRate(config.replicas),
        metrics: createHttpMetrics(),
        log: log.child({ component: "http" }),
        draining: () => draining,
        ready: () => store.ready().then(() => true, () => false),
      }, VERSION);
      const server = await startHttpServer(app, config);
      handle.port = server.port;
      log.info({ port: server.port, host: config.host }, "gateway listening");
      return async () => {
        draining = true;
        await server.close(HTTP_DRAIN_MS);
      };
    },
  });
}

/** The gateway configured from the environment (see README, Configuration). */
export const gatewayActor = createGatewayActor(gatewayConfigFromEnv());
