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
let leaseNumber = 0; // never reset: idempotency keys name lease ids, and ai-capacity keeps them

const standIn = defineActor({
  name: "ai-capacity",
  version: "0.0.1",
  description: "records lease traffic for the lease client's tests",
  contract: aiCapacityContract,
  collections: {},
  handlers: {
    lease: async (input, context) => {
      if (input.estimatedTokens > refuseLeasesAbove) throw new MeshError("OVER_BUDGET", "stand-in budget");
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

test("local mode carves several calls out of one remote lease and settles their totals", async () => {
  const client = createLeaseClient(mesh, { service: "chat", localLeaseTokens: 1000, localLeaseRequests: 5 });
  const leases = await Promise.all([client.acquire(call), client.acquire(call), client.acquire(call)]);
  assert.equal(calls.leases.length, 1);
  assert.deepEqual({ ...calls.leases[0], key: undefined }, { estimatedTokens: 1000, requests: 5, service: "chat", key: undefined });
  const leaseId = leases[0]!.leaseId;
  assert.ok(leases.every((lease) => lease.local && lease.leaseId === leaseId && lease.grantedTokens === 100));

  const costs = await Promise.all(leases.map((lease, index) => lease.settle({ promptTokens: 10 * (index + 1), completionTokens: 5 })));
  assert.deepEqual(costs.map((cost) => cost.costUsd), [0.00003, 0.00004, 0.00005]);
  assert.equal(calls.settles.length, 0, "nothing is settled while the local lease can still be used");
  await client.flush();
  assert.deepEqual(calls.settles, [{ leaseId, promptTokens: 60, completionTokens: 15, requests: 3, key: `settle-${leaseId}` }]);
});

test("a used-up local lease is settled when its last call ends, and the next call opens another", async () => {
  const client = createLeaseClient(mesh, { service: "chat", localLeaseTokens: 250, localLeaseRequests: 2 });
  const first = await client.acquire(call);
  const second = await client.acquire(call);
  const third = await client.acquire(call);
  assert.equal(second.leaseId, first.leaseId);
  assert.notEqual(third.leaseId, first.leaseId, "the first local lease has served its two calls");
  await first.settle({ promptTokens: 40, completionTokens: 10 });
  await second.release();
  await client.flush();
  assert.deepEqual(calls.settles, [
    { leaseId: first.leaseId, promptTokens: 40, completionTokens: 10, requests: 1, key: `settle-${first.leaseId}` },
  ]);
  assert.deepEqual(calls.releases, [], "the second local lease still has a call in flight");
  await third.release();
  await client.flush();
  assert.deepEqual(calls.releases, [{ leaseId: third.leaseId, key: `release-${third.leaseId}` }], "a local lease with no call made is released");

  const big = await client.acquire({ ...call, estimatedTokens: 251 });
  assert.equal(big.local, false, "a call larger than a local lease gets its own");
  assert.equal(calls.leases.at(-1)?.estimatedTokens, 251);
  await big.release();
});

test("when the larger local lease is refused, the call asks for itself; a local lease is carved only while fresh", async () => {
  refuseLeasesAbove = 500;
  const client = createLeaseClient(mesh, { service: "chat", localLeaseTokens: 1000, localLeaseMs: 1000 });
  const alone = await client.acquire(call);
  assert.equal(alone.local, false);
  assert.deepEqual(calls.leases.map((lease) => lease.estimatedTokens), [100]);
  await alone.release();

  refuseLeasesAbove = Number.POSITIVE_INFINITY;
  const early = await client.acquire(call);
  await early.settle({ promptTokens: 1, completionTokens: 1 });
  await sleep(1100); // the local lease's time is up
  const late = await client.acquire(call);
  assert.notEqual(late.leaseId, early.leaseId);
  await late.release();
  await client.close();
  assert.deepEqual(calls.settles.map((settle) => [settle.leaseId, settle.requests]), [[early.leaseId, 1]]);
  assert.deepEqual(calls.releases.map((release) => release.leaseId), [alone.leaseId, late.leaseId]);
});

test("bad use: settling twice is refused locally, and ai-capacity's refusals reach the caller", async () => {
  const client = createLeaseClient(mesh, { service: "chat", localLeaseTokens: 1000 });
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
  refuseLeasesAbove = 10;
  await assert.rejects(client.acquire({ ...call, estimatedTokens: 50 }), (error) => hasCode(error, "OVER_BUDGET"));
  await client.close();
});
