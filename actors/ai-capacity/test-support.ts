/** Shared setup of the ai-capacity tests: tenants plus ai-capacity replicas on real servers. */
import { after } from "node:test";
import { aiCapacityContract } from "../../protocol/ai-capacity.ts";
import { tenantsContract, type TenantPolicyFields } from "../../protocol/tenants.ts";
import { actorClient, isMeshError, MeshClient } from "../../runtime/index.ts";
import { startInProcess } from "../../runtime/testing/replicas.ts";
import type { TestServers } from "../../sandbox/testing/test-servers.ts";
import { tenantsActor } from "../tenants/actor.ts";
import { createAiCapacityActor } from "./actor.ts";
import { parseAiCapacityConfig, type AiCapacityConfigInput } from "./config.ts";

export const basePolicy: TenantPolicyFields = {
  displayName: "Test tenant",
  limits: { requestsPerMinute: 1000, tokensPerMinute: 1_000_000 },
  budget: { amountUsd: 100, period: "day" },
  allowedModels: [],
  allowedTools: [],
  maxPromptTokens: 100_000,
  retention: { storePrompts: false, retentionDays: 7 },
};

/** Starts the tenants actor and `replicas` ai-capacity replicas; stopped by the servers' after hooks. */
export async function startCapacityMesh(servers: TestServers, options: { replicas?: number; config?: AiCapacityConfigInput } = {}) {
  await startInProcess(tenantsActor, servers);
  const actor = createAiCapacityActor(parseAiCapacityConfig(options.config ?? {}));
  for (let replica = 0; replica < (options.replicas ?? 1); replica++) await startInProcess(actor, servers);
  const nc = await servers.connectNats();
  // One attempt: the tests look at each answer as the actor gave it, retries would hide them.
  const mesh = new MeshClient(nc, { service: "tests", maxAttempts: 1, defaultTimeoutMs: 30_000 });
  after(async () => {
    mesh.close();
    await nc.close();
  });
  const tenants = actorClient(mesh, tenantsContract);
  return {
    nc,
    mesh,
    capacity: actorClient(mesh, aiCapacityContract),
    async putTenant(tenant: string, changes: Partial<TenantPolicyFields> = {}): Promise<void> {
      await tenants.put({ policy: { ...basePolicy, ...changes }, expectedVersion: 0 }, { tenant });
    },
  };
}

/** The error code a call ended with ("OK" if it succeeded). */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(() => "OK", (error: unknown) => (isMeshError(error) ? error.code : String(error)));
}

export async function outcomeOf<T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; code: string; retryAfterMs: number | undefined }> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    if (!isMeshError(error)) throw error;
    return { ok: false, code: error.code, retryAfterMs: error.retryAfterMs };
  }
}
