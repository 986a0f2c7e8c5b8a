/** Helpers for the llm and usage actors' tests (not imported by the actors themselves). */
import { after } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { aiCapacityContract } from "../../protocol/ai-capacity.ts";
import { llmContract, UsageEvent } from "../../protocol/llm.ts";
import { streamName } from "../../protocol/subjects.ts";
import { tenantsContract, type TenantPolicyFields } from "../../protocol/tenants.ts";
import { usageContract } from "../../protocol/usage.ts";
import { MeshError, MeshClient, actorClient, isMeshError, type ActorDefinition, type RunningActor } from "../../runtime/index.ts";
import { startInProcess } from "../../runtime/testing/replicas.ts";
import { DEFAULT_MODELS, startTestProvider } from "../../sandbox/provider/test-provider.ts";
import type { TestServers } from "../../sandbox/testing/test-servers.ts";
import { createAiCapacityActor } from "../ai-capacity/actor.ts";
import { parseAiCapacityConfig, type AiCapacityConfigInput } from "../ai-capacity/config.ts";
import { tenantsActor } from "../tenants/actor.ts";
import { createUsageActor } from "../usage/actor.ts";
import type { UsageConfigInput } from "../usage/config.ts";
import { createLlmActor } from "./actor.ts";
import type { LlmConfigInput } from "./config.ts";

export const TEST_POLICY: TenantPolicyFields = {
  displayName: "Test tenant",
  limits: { requestsPerMinute: 1_000_000, tokensPerMinute: 1_000_000_000 },
  budget: { amountUsd: 100, period: "month" },
  allowedModels: [],
  allowedTools: ["lookup"],
  maxPromptTokens: 2000,
  retention: { storePrompts: false, retentionDays: 7 },
};

/** startInProcess for a definition of any contract (cleanup: by the servers, before they stop). */
// `any`: handler parameter types make definitions of different contracts incompatible.
export function startActorForTest(definition: ActorDefinition<any>, servers: TestServers, overrides: Record<string, unknown> = {}): Promise<RunningActor> {
  return startInProcess(definition, servers, overrides);
}

export interface MeshOptions {
  readonly llm?: LlmConfigInput;
  readonly llmReplicas?: number;
  readonly aiCapacity?: AiCapacityConfigInput;
  readonly capacityReplicas?: number;
  /** Start the usage actor (with these settings) too. */
  readonly usage?: UsageConfigInput;
  /** Models the test provider serves besides its defaults. */
  readonly extraProviderModels?: readonly string[];
}

/** Tenants, ai-capacity, llm (and usage) replicas in this process, the test provider, and typed clients. */
export async function startLlmMesh(servers: TestServers, options: MeshOptions = {}) {
  const provider = await startTestProvider(options.extraProviderModels ? { models: [...DEFAULT_MODELS, ...options.extraProviderModels] } : {});
  after(() => provider.stop());
  await startActorForTest(tenantsActor, servers);
  const capacityActor = createAiCapacityActor(parseAiCapacityConfig(options.aiCapacity));
  const capacityReplicas: RunningActor[] = [];
  const startCapacityReplica = async () => {
    const replica = await startActorForTest(capacityActor, servers);
    capacityReplicas.push(replica);
    return replica;
  };
  for (let i = 0; i < (options.capacityReplicas ?? 1); i++) await startCapacityReplica();
  const llmReplicas: RunningActor[] = [];
  for (let i = 0; i < (options.llmReplicas ?? 1); i++) {
    // A definition per replica: each gets its own circuits and caches, as separate processes would.
    // Idle shares go back within 50 ms, so a test waits briefly for what is reserved to be settled.
    llmReplicas.push(await startActorForTest(createLlmActor({ baseURL: provider.baseURL, apiKey: "test", shareIdleMs: 50, ...options.llm }), servers));
  }
  if (options.usage) await startActorForTest(createUsageActor(options.usage), servers);
  const nc = await servers.connectNats();
  after(() => nc.close());
  const mesh = new MeshClient(nc, { service: "test-app", defaultTimeoutMs: 20_000 });
  const jsm = await jetstreamManager(nc);
  const tenants = actorClient(mesh, tenantsContract);
  return {
    provider,
    llmReplicas,
    capacityReplicas,
    /** Another ai-capacity replica (after a test stopped the others). */
    startCapacityReplica,
    nc,
    jsm,
    mesh,
    llm: actorClient(mesh, llmContract),
    capacity: actorClient(mesh, aiCapacityContract),
    usage: actorClient(mesh, usageContract),
    /**
     * Resolves when ai-capacity holds no reservation for the tenant: every share and lease is
     * settled (a settlement drops the reservation and books the cost in one step).
     */
    async untilNothingReserved(tenant: string): Promise<void> {
      await untilState(`${tenant}'s shares to be settled`, async () => (await actorClient(mesh, aiCapacityContract).status({}, { tenant })).reservedUsd === 0);
    },
    /** The tenant's usage events once `count` are stored (billed calls publish theirs after the answer). */
    async usageEvents(tenant: string, count: number): Promise<UsageEvent[]> {
      await untilState(`${count} usage events of ${tenant}`, async () => (await storedUsageEvents(jsm, tenant)).length >= count);
      return storedUsageEvents(jsm, tenant);
    },
    async createTenant(tenant: string, policy: Partial<TenantPolicyFields> = {}): Promise<void> {
      await tenants.put({ policy: { ...TEST_POLICY, ...policy }, expectedVersion: 0 }, { tenant });
    },
  };
}

/** The rejection of a call that must fail, as a MeshError. */
export async function failureOf(promise: Promise<unknown>): Promise<MeshError> {
  try {
    await promise;
  } catch (error) {
    if (isMeshError(error)) return error;
    throw error;
  }
  throw new Error("expected the call to fail");
}

export function ask(text: string, extra: Record<string, unknown> = {}) {
  return { model: "gpt-4o-mini", messages: [{ role: "user" as const, content: text }], maxTokens: 32, ...extra };
}

/** Every llm usage event stored in the llm actor's stream, oldest first. */
export async function storedUsageEvents(jsm: JetStreamManager, tenant?: string): Promise<UsageEvent[]> {
  const stream = streamName("llm");
  const { state } = await jsm.streams.info(stream);
  const events: UsageEvent[] = [];
  for (let seq = state.first_seq; state.messages > 0 && seq <= state.last_seq; seq++) {
    const message = await jsm.streams.getMessage(stream, { seq });
    if (!message || message.subject !== llmContract.events.usage.subject) continue;
    const event = UsageEvent.parse(message.json());
    if (tenant === undefined || event.tenant === tenant) events.push(event);
  }
  return events;
}

/**
 * Resolves when the durable consumer of the llm stream has every stored event acknowledged.
 * This waits for server state (there is no event to await); it never retries an assertion.
 */
async function untilConsumed(jsm: JetStreamManager, durable: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const info = await jsm.consumers.info(streamName("llm"), durable);
    if (info.num_pending === 0 && info.num_ack_pending === 0) return;
    if (Date.now() > end) throw new Error(`${durable} still has ${info.num_pending} pending and ${info.num_ack_pending} unacknowledged events`);
    await sleep(50);
  }
}

/**
 * Resolves once `check` (a read of server state: a status, a count) holds; for conditions no
 * event announces. It never retries an assertion: what is asserted is read after it resolves.
 */
export async function untilState(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`still waiting for ${what}`);
    await sleep(50);
  }
}

/** Resolves when the usage actor has consumed every stored usage event. */
export function untilUsageConsumed(jsm: JetStreamManager, timeoutMs = 30_000): Promise<void> {
  return untilConsumed(jsm, "usage--usage", timeoutMs);
}

/** Resolves when ai-capacity has applied every stored settlement (a reply's cost is then in `spent`). */
export function untilSettled(jsm: JetStreamManager, timeoutMs = 30_000): Promise<void> {
  return untilConsumed(jsm, "ai-capacity--settlement", timeoutMs);
}

export function sumOf<T>(items: readonly T[], pick: (item: T) => number): number {
  return items.reduce((total, item) => total + pick(item), 0);
}
