/**
 * (e) leases through `ai-capacity`: one operation is a lease followed by its settle, called
 * as the llm actor calls them (no idempotency key), for one tenant, service and model, with
 * limits and budget far above what the bench uses so nothing is refused.
 * Baseline: the least a lease/settle pair can cost on this runtime, two sequential mesh
 * requests that each do one atomic single-document write ($inc with upsert) in the actor's
 * own database (`bench.write`). The ratio is what the bucket, budget and lease bookkeeping add.
 */
import { aiCapacityContract } from "../../protocol/ai-capacity.ts";
import { tenantsContract, type TenantPolicyFields } from "../../protocol/tenants.ts";
import { actorClient, connectNats, MeshClient } from "../../runtime/index.ts";
import { createAiCapacityActor } from "../../actors/ai-capacity/actor.ts";
import { parseAiCapacityConfig } from "../../actors/ai-capacity/config.ts";
import { tenantsActor } from "../../actors/tenants/actor.ts";
import { BENCH_TENANT, benchActor, benchContract } from "./bench-actors.ts";
import type { BenchEnvironment } from "./bench-environment.ts";
import { runClosedLoop, type LoadOptions, type LoadResult } from "./closed-loop.ts";
import type { Comparison } from "./report.ts";

/** Far above what a few seconds of bench traffic can use. */
export const UNLIMITED_POLICY: TenantPolicyFields = {
  displayName: "Bench tenant",
  limits: { requestsPerMinute: 1_000_000, tokensPerMinute: 1_000_000_000 },
  budget: { amountUsd: 1_000_000, period: "day" },
  allowedModels: [],
  allowedTools: [],
  maxPromptTokens: 1_000_000,
  retention: { storePrompts: false, retentionDays: 1 },
};

const LEASE = { service: "bench", model: "gpt-4o-mini", estimatedTokens: 200, requests: 1 };
const USAGE = { promptTokens: 120, completionTokens: 40, requests: 1 };

async function measureWritePairs(env: BenchEnvironment, client: MeshClient, load: LoadOptions): Promise<LoadResult> {
  const actor = await env.startActor(benchActor, "bench-write-1");
  try {
    const bench = actorClient(client, benchContract);
    return await runClosedLoop(async () => {
      await bench.write({ key: "first" }, { tenant: BENCH_TENANT });
      await bench.write({ key: "second" }, { tenant: BENCH_TENANT });
    }, load);
  } finally {
    await actor.stop();
  }
}

async function measureLeasePairs(env: BenchEnvironment, client: MeshClient, load: LoadOptions): Promise<LoadResult> {
  const tenants = await env.startActor(tenantsActor, "bench-tenants-1");
  const capacity = await env.startActor(createAiCapacityActor(parseAiCapacityConfig({})), "bench-capacity-1");
  try {
    const tenantsClient = actorClient(client, tenantsContract);
    await tenantsClient.put({ policy: UNLIMITED_POLICY, expectedVersion: 0 }, { tenant: BENCH_TENANT });
    const capacityClient = actorClient(client, aiCapacityContract);
    return await runClosedLoop(async () => {
      const grant = await capacityClient.lease(LEASE, { tenant: BENCH_TENANT });
      await capacityClient.settle({ leaseId: grant.leaseId, ...USAGE }, { tenant: BENCH_TENANT });
    }, load);
  } finally {
    await capacity.stop();
    await tenants.stop();
  }
}

export async function benchLeases(env: BenchEnvironment, load: LoadOptions): Promise<Comparison> {
  const nc = await connectNats({ ...env.natsOptions(), name: "bench-leases" });
  // One attempt: a refused or shed call is counted as an error, not hidden by a retry.
  const client = new MeshClient(nc, { service: "bench-caller", maxAttempts: 1, defaultTimeoutMs: 10_000 });
  try {
    const writes = await measureWritePairs(env, client, load);
    const leases = await measureLeasePairs(env, client, load);
    if (leases.firstError) process.stderr.write(`(e) first lease error: ${String(leases.firstError)}\n`);
    return {
      scenario: "(e)",
      baseline: { label: "mesh one-write request pair", unit: "pairs/s", summary: writes.summary, errors: writes.errors },
      subject: { label: "ai-capacity lease+settle", unit: "pairs/s", summary: leases.summary, errors: leases.errors },
      latencyMeaning: "one lease and its settle, one after the other (baseline: two one-write requests)",
    };
  } finally {
    client.close();
    await nc.close();
  }
}
