/** Helpers for the usage actor's tests: synthetic llm usage events and a clean start. */
import { after } from "node:test";
import { randomUUID } from "node:crypto";
import { jetstreamManager } from "@nats-io/jetstream";
import { llmContract, type UsageEvent } from "../../protocol/llm.ts";
import { tenantsContract } from "../../protocol/tenants.ts";
import { usageContract } from "../../protocol/usage.ts";
import { MeshClient, actorClient } from "../../runtime/index.ts";
import { createEventPublisher, ensureEventStream } from "../../runtime/events/index.ts";
import type { TestServers } from "../../sandbox/testing/test-servers.ts";
import { TEST_POLICY, startActorForTest } from "../llm/test-support.ts";
import { tenantsActor } from "../tenants/actor.ts";

export function usageEvent(fields: Partial<UsageEvent> & Pick<UsageEvent, "tenant">): UsageEvent {
  return {
    service: "checkout", model: "gpt-4o-mini", promptTokens: 10, completionTokens: 20, costUsd: 0.0001,
    latencyMs: 12, cacheHit: false, outcome: "ok", fallback: false, at: new Date().toISOString(), ...fields,
  };
}

/** A client, the tenants actor, and a publisher of llm usage events (as the llm actor would publish them). */
export async function startUsageHarness(servers: TestServers) {
  await startActorForTest(tenantsActor, servers);
  const nc = await servers.connectNats();
  after(() => nc.close());
  const jsm = await jetstreamManager(nc);
  await ensureEventStream(jsm, "llm");
  const publisher = createEventPublisher(nc, { actor: "llm" });
  const mesh = new MeshClient(nc, { service: "test-app" });
  const tenants = actorClient(mesh, tenantsContract);
  return {
    nc,
    jsm,
    mesh,
    usage: actorClient(mesh, usageContract),
    async createTenant(tenant: string, budget: { amountUsd: number; period: "day" | "month" } = TEST_POLICY.budget): Promise<void> {
      await tenants.put({ policy: { ...TEST_POLICY, budget }, expectedVersion: 0 }, { tenant });
    },
    /** Publishes with the event's tenant as Mw-Tenant unless `headerTenant` says otherwise. */
    async publish(event: UsageEvent | Record<string, unknown>, headerTenant?: string): Promise<string> {
      const eventId = randomUUID();
      await publisher.publish(llmContract.events.usage, event, { tenant: headerTenant ?? String(event.tenant), eventId });
      return eventId;
    },
  };
}
