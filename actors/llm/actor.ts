import { aiCapacityContract } from "../../protocol/ai-capacity.ts";
import { llmContract } from "../../protocol/llm.ts";
import { tenantsContract } from "../../protocol/tenants.ts";
import { createTenantPolicyCache, defineActor } from "../../runtime/index.ts";
import { BackgroundWrites } from "./background-writes.ts";
import { CallLog } from "./call-log.ts";
import { CAPACITY_NOT_STARTED, startCallCapacity } from "./capacity.ts";
import { createCompleteHandler, type LlmServices } from "./complete.ts";
import { COMPLETION_CACHE } from "./completion-cache.ts";
import { llmConfigFromEnv, parseLlmConfig, type LlmConfig, type LlmConfigInput } from "./config.ts";
import { EVENT_OUTBOX, startOutboxDrainer } from "./event-outbox.ts";
import { createProviderBreakers } from "./provider-breakers.ts";
import { createProviderClient } from "./provider-call.ts";
import { warmUpTokenizer } from "./prompt-tokens.ts";
import { CALL_LOG, EVALUATION_SAMPLES } from "./records.ts";

/**
 * The llm actor for one configuration. Provider client, circuits and the policy cache live in
 * the definition's closure: one set per process (replicas share nothing but the databases).
 */
export function createLlmActor(configInput: LlmConfig | LlmConfigInput = {}) {
  const config = parseLlmConfig(configInput);
  const client = createProviderClient(config.baseURL, config.apiKey);
  let onCircuitChange: (model: string, state: string) => void = () => {};
  const breakers = createProviderBreakers({
    provider: config.baseURL,
    consecutiveFailures: config.breakerFailures,
    halfOpenAfterMs: config.breakerHalfOpenMs,
    onStateChange: (model, state) => onCircuitChange(model, state),
  });
  const policies = createTenantPolicyCache(config.policyCacheMs);
  // Capacity needs the replica's mesh client: it is connected in onStart, before any request.
  const services: LlmServices = { config, client, breakers, policies, background: new BackgroundWrites(config.maxBackgroundWrites),
    capacity: CAPACITY_NOT_STARTED, callLog: CALL_LOG_NOT_STARTED,
  };

  return defineActor({
    name: "llm",
    version: "1.0.0",
    description: "Chat completions against any OpenAI-compatible endpoint, within each tenant's policy, capacity and budget",
    contract: llmContract,
    collections: {
      [COMPLETION_CACHE]: {
        tenantOwned: true,
        expires: true,
        indexes: [{ key: { tenant: 1, key: 1 }, unique: true, name: "one_entry_per_tenant_and_request" }],
      },
      [CALL_LOG]: { tenantOwned: true, expires: true, indexes: [{ key: { tenant: 1, at: -1 }, name: "calls_by_tenant_and_time" }] },
      [EVALUATION_SAMPLES]: { tenantOwned: true, expires: true, indexes: [{ key: { tenant: 1, at: -1 }, name: "samples_by_tenant_and_time" }] },
      // Settlements and usage events JetStream refused, until a replica republishes them (usually empty).
      [EVENT_OUTBOX]: { tenantOwned: false },
    },
    handlers: { complete: createCompleteHandler(services) },
    // Policies from tenants; leases, settlement and provider signals from ai-capacity.
    calls: [tenantsContract, aiCapacityContract],
    roles: ["lease-holder", "provider-signals"],
    // Completions wait on the provider for seconds: many may be in flight at little cost.
    limits: { maxInFlight: 128, defaultTimeoutMs: 30_000 },
    async onStart(start) {
      const { log } = start;
      warmUpTokenizer();
      onCircuitChange = (model, state) => log.warn({ breaker: "provider", model, state }, "provider circuit changed state");
      if (!config.apiKey) log.warn("OPENAI_API_KEY is not set; a provider that checks keys will refuse every call");
      log.info({ baseURL: config.baseURL, fallbacks: config.fallbacks, timeoutMs: config.timeoutMs }, "llm provider configured");
      const capacity = startCallCapacity(start, config);
      services.capacity = capacity;
      const callLog = new CallLog(start.store, start.log, { flushMs: config.callLogFlushMs, maxPending: config.maxBackgroundWrites });
      services.callLog = callLog;
      const stopDrainer = startOutboxDrainer(start, config.outboxDrainMs);
      return async () => {
        // In-flight calls are finished by now (graceful drain): settle the shares, then let the last writes land.
        await capacity.close();
        await services.background.drain();
        await callLog.close();
        await stopDrainer();
      };
    },
  });
}

/** Before onStart: requests arrive only after it, so this is never called. */
const CALL_LOG_NOT_STARTED = { add: async () => {} };

/** The llm actor configured from the environment (see README, Configuration). */
export const llmActor = createLlmActor(llmConfigFromEnv());
