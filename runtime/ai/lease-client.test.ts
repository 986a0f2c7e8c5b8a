/**
 * The lease client against a stand-in ai-capacity that records what it is asked (the real
 * actor's side is tested in actors/ai-capacity/lease-client.test.ts; runtime/ may not import it).
 */
import { test, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { aiCapacityContract } from "../../protocol/ai-capacity.ts";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { defineActor, hasCode, MeshClient, MeshError } from "../index.ts";
import { startInProcess } from "../testing/replicas.ts";
import { callCostUsd, createLeaseClient } from "./lease-client.ts";

const price = { inputPerMillion: 1, outputPerMillion: 4 };
const calls = {
  leases: [] as Array<{ estimatedTokens: number; requests: number; service: string; key: string | undefined }>,
  settles: [] as Array<{ leaseId: string; promptTokens: number; completionTokens: number; requests: number; key: string | undefined }>,
  releases: [] as Array<{ leaseId: string; key: string | undefined }>,
};
let refuseLeasesAbove = Number.POSITIVE_INFINITY;
let refusalsSent = 0;
let leaseNumber = 0; // never reset: idempotency keys name lease ids, and ai-capacity keeps them

const standIn = defineActor({
  name: "ai-capacity",
  version: "0.0.1",
  description: "records lease traffic for the lease client's tests",
  contract: aiCapacityContract,
  collections: {},
  handlers: {
    lease: async (input, context) => {
      if (input.estimatedTokens > refuseLeasesAbove) {
        refusalsSent++;
        throw new MeshError("OVER_BUDGET", "stand-in budget");
      }
      calls.leases.push({ estimatedTokens: input.estimatedTokens, requests: input.requests, service: input.service, key: context.idempotencyKey });
      return { leaseId: `L${++leaseNumber}`, grantedTokens: input.estimatedTokens, grantedRequests: input.requests, reservedUsd: 0, expiresAt: Date.now() + 30_000, price };
    },
    settle: async (input, context) => {
      calls.settles.push({ ...input, key: context.idempotencyKey });
      return { leaseId: input.leaseId, costUsd: callCostUsd(price, input), returnedTokens: 0, alreadySettled: false };
    },
    release: async (input, context) => {
      calls.releases.push({ leaseId: input.leaseId, key: context.idempotencyKey });
      return { leaseId: input.leaseId, released: true };
    },
    signal: async () => { throw new MeshError("BAD_REQUEST", "not used"); },
    status: async () => { throw new MeshError("BAD_REQUEST", "not used"); },
    prices: async () => { throw new MeshError("BAD_REQUEST", "not used"); },
  },
});

const servers = await useTestServers();
await startInProcess(standIn, servers);
const nc = await servers.connectNats();
const mesh = new MeshClient(nc);
after(async () => {
  mesh.close();
  await nc.close();
});
beforeEach(() => {
  calls.leases.length = 0;
  calls.settles.length = 0;
  calls.releases.length = 0;
  refuseLeasesAbove = Number.POSITIVE_INFINITY;
});

const call = { tenant: "acme", model: "large-model", estimatedTokens: 100 };

test("by default every call is its own remote lease, settled or released with an idempotency key", async () => {
  const client = createLeaseClient(mesh, { service: "chat" });
  const lease = await client.acquire(call);
  assert.equal(lease.local, false);
  assert.deepEqual({ ...calls.leases[0], key: undefined }, { estimatedTokens: 100, requests: 1, service: "chat", key: undefined });
  assert.match(calls.leases[0]!.key ?? "", /^lease-/);
  assert.deepEqual(await lease.settle({ promptTokens: 30, completionTokens: 20 }), { costUsd: 0.00011 });
  assert.deepEqual(calls.settles, [{ leaseId: lease.leaseId, promptTokens: 30, completionTokens: 20, requests: 1, key: `settle-${lease.leaseId}` }]);
  await assert.rejects(lease.settle({ promptTokens: 1, completionTokens: 1 }), (error) => hasCode(error, "CONFLICT"));

  const unused = await client.acquire(call);
  await unused.release();
  assert.deepEqual(calls.releases, [{ leaseId: unused.leaseId, key: `release-${unused.leaseId}` }]);
  await client.close();
  await assert.rejects(client.acquire(call), (error) => hasCode(error, "UNAVAILABLE"));
});

const shares = { maxTokens: 100_000, callTimeoutMs: 1000 };
const settlementsTo = (into: Array<{ leaseId: string; promptTokens: number; completionTokens: number; requests: number }>) =>
  async (_tenant: string, leaseId: string, usage: { promptTokens: number; completionTokens: number; requests: number }) => { into.push({ leaseId, ...usage }); };

test("with shares, calls are admitted in memory from one share and settled together through the settlement sink", async () => {
  const settled: Array<{ leaseId: string; promptTokens: number; completionTokens: number; requests: number }> = [];
  const client = createLeaseClient(mesh, { service: "chat", shares, settlements: settlementsTo(settled) });
  const leases = await Promise.all([client.acquire(call), client.acquire(call), client.acquire(call)]);
  assert.equal(calls.leases.length, 1, "one share for three calls");
  assert.deepEqual({ ...calls.leases[0], key: undefined }, { estimatedTokens: 400, requests: 4, service: "chat", key: undefined }, "the first share holds 4 calls of this size");
  const leaseId = leases[0]!.leaseId;
  assert.ok(leases.every((lease) => lease.local && lease.leaseId === leaseId && lease.grantedTokens === 100));
  const costs = await Promise.all(leases.map((lease, index) => lease.settle({ promptTokens: 10 * (index + 1), completionTokens: 5 })));
  assert.deepEqual(costs.map((cost) => cost.costUsd), [0.00003, 0.00004, 0.00005]);
  assert.equal(settled.length, 0, "nothing is settled while the share can still be used");
  await client.close();
  assert.deepEqual(settled.filter((settlement) => settlement.leaseId === leaseId), [{ leaseId, promptTokens: 60, completionTokens: 15, requests: 3 }]);
  assert.equal(calls.settles.length + calls.releases.length, 0, "settlements went to the sink, not to ai-capacity's requests");
});

test("the next share is asked for in the background from the measured demand before the current one runs out", async () => {
  const settled: Array<{ leaseId: string; promptTokens: number; completionTokens: number; requests: number }> = [];
  const client = createLeaseClient(mesh, { service: "chat", shares, settlements: settlementsTo(settled) });
  const first = [await client.acquire(call), await client.acquire(call), await client.acquire(call)];
  // The third call left less than half of the first share: the next one was asked for then.
  const fourth = await client.acquire(call);
  const fifth = await client.acquire(call);
  assert.equal(calls.leases.length, 2);
  assert.deepEqual(calls.leases.map((lease) => lease.requests), [4, 30], "3 calls within a second: 30 calls over the next share's 5 s, with headroom");
  assert.notEqual(fifth.leaseId, first[0]!.leaseId, "the fifth call came from the next share");
  for (const lease of [...first, fourth, fifth]) await lease.settle({ promptTokens: 1, completionTokens: 1 });
  await client.close();
  assert.deepEqual(settled.map((settlement) => settlement.requests).sort(), [1, 4], "each share settled once with its calls");
});

test("a share with no call for idleMs goes back by itself, and a share ai-capacity refuses makes calls lease one by one", async () => {
  const settled: Array<{ leaseId: string; promptTokens: number; completionTokens: number; requests: number }> = [];
  const client = createLeaseClient(mesh, { service: "chat", shares: { ...shares, idleMs: 50 }, settlements: settlementsTo(settled) });
  const lease = await client.acquire(call);
  await lease.settle({ promptTokens: 7, completionTokens: 3 });
  while (settled.length === 0) await sleep(10); // the idle sweep settles it; nothing else does
  assert.deepEqual(settled, [{ leaseId: lease.leaseId, promptTokens: 7, completionTokens: 3, requests: 1 }]);
  await client.close();

  refuseLeasesAbove = 150;
  const refused = createLeaseClient(mesh, { service: "chat", shares, settlements: settlementsTo(settled) });
  const before = calls.leases.length;
  const alone = await refused.acquire(call);
  const again = await refused.acquire(call);
  assert.equal(alone.local, false);
  assert.equal(again.local, false);
  assert.deepEqual(calls.leases.slice(before).map((lease) => lease.estimatedTokens), [100, 100], "after the refusal no share is asked for again for a while");
  await alone.release();
  await again.release();
  await refused.close();
});

test("bad use: settling twice is refused locally, and ai-capacity's refusals reach the caller", async () => {
  const client = createLeaseClient(mesh, { service: "chat", shares });
  const lease = await client.acquire(call);
  await lease.release();
  await assert.rejects(lease.settle({ promptTokens: 1, completionTokens: 1 }), (error) => hasCode(error, "CONFLICT"));
  for (const estimatedTokens of [-1, 0, 1.5, Number.NaN]) {
    await assert.rejects(client.acquire({ ...call, estimatedTokens }), (error) => hasCode(error, "BAD_REQUEST"), String(estimatedTokens));
  }
  const other = await client.acquire(call);
  await assert.rejects(other.settle({ promptTokens: -5, completionTokens: 1 }), (error) => hasCode(error, "BAD_REQUEST"));
  await other.release();
  await assert.rejects(client.acquire({ ...call, tenant: "Bad Tenant" }), (error) => hasCode(error, "BAD_REQUEST"));
  await client.flush();
  await client.close();
  refuseLeasesAbove = 10;
  const refusing = createLeaseClient(mesh, { service: "chat", shares });
  await assert.rejects(refusing.acquire({ ...call, estimatedTokens: 50 }), (error) => hasCode(error, "OVER_BUDGET"), "the share and then the call itself were refused");
  await refusing.close();
});

test("ai-capacity's refusal of a call is repeated here for calls at least as large while it is fresh; smaller calls and other tenants ask", async () => {
  refuseLeasesAbove = 150;
  const client = createLeaseClient(mesh, { service: "chat", refusalHoldMs: 60_000 });
  const asked = () => refusalsSent;
  const before = asked();
  await assert.rejects(client.acquire({ ...call, estimatedTokens: 200 }), (error) => hasCode(error, "OVER_BUDGET"));
  assert.equal(asked() - before, 1);
  const rush = await Promise.allSettled(Array.from({ length: 50 }, () => client.acquire({ ...call, estimatedTokens: 200 + Math.floor(Math.random() * 100) })));
  assert.ok(rush.every((outcome) => outcome.status === "rejected" && hasCode(outcome.reason, "OVER_BUDGET")), "every call at least as large is refused");
  assert.equal(asked() - before, 1, "without asking ai-capacity again");
  await assert.rejects(client.acquire({ ...call, tenant: "globex", estimatedTokens: 200 }), (error) => hasCode(error, "OVER_BUDGET"));
  assert.equal(asked() - before, 2, "another tenant's call asks for itself");

  const leasesBefore = calls.leases.length;
  const smaller = await client.acquire(call);
  assert.equal(calls.leases.length - leasesBefore, 1, "a smaller call asks, and is granted");
  await smaller.release();
  await assert.rejects(client.acquire({ ...call, estimatedTokens: 200 }), (error) => hasCode(error, "OVER_BUDGET"));
  assert.equal(asked() - before, 2, "a smaller call's grant says nothing about larger ones");
  await client.close();

  const asking = createLeaseClient(mesh, { service: "chat", refusalHoldMs: 0 });
  for (let i = 0; i < 5; i++) await assert.rejects(asking.acquire({ ...call, estimatedTokens: 200 }), (error) => hasCode(error, "OVER_BUDGET"));
  assert.equal(asked() - before, 7, "refusalHoldMs 0 asks every time");
  await asking.close();
});
