/** `context.call(contract).verb(input, options)`: a call made inside work inherits tenant, trace and the remaining deadline. */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { z } from "zod";
import { defineContract } from "../../protocol/contract.ts";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { actorClient, defineActor, MeshClient, type Handler } from "../index.ts";
import { newTraceparent } from "../request/request-headers.ts";
import { fixtureActor, fixtureContract } from "../testing/fixture-actors.ts";
import { startInProcess } from "../testing/replicas.ts";

const relayContract = defineContract({
  actor: "relay",
  requests: {
    whoami: {
      subject: "relay.whoami",
      input: z.strictObject({ timeoutMs: z.number().int().positive().optional(), idempotencyKey: z.string().optional() }),
      output: z.object({ own: z.object({ traceId: z.string(), deadline: z.number() }), downstream: fixtureContract.requests.whoami.output }),
    },
  },
  events: {},
});

// Typed by the contract alone: input.timeoutMs is `number | undefined` without a cast.
const relayWhoami: Handler<typeof relayContract, "whoami"> = async (input, context) => {
  const downstream = await context.call(fixtureContract).whoami({}, {
    ...(input.timeoutMs === undefined ? {} : { timeoutMs: input.timeoutMs }),
    ...(input.idempotencyKey === undefined ? {} : { idempotencyKey: input.idempotencyKey }),
  });
  return { own: { traceId: context.traceId, deadline: context.deadline }, downstream };
};

const relayActor = defineActor({
  name: "relay",
  version: "0.0.1",
  description: "calls fixture from inside its own work",
  contract: relayContract,
  collections: {},
  calls: [fixtureContract],
  handlers: { whoami: relayWhoami },
});

const servers = await useTestServers();
await startInProcess(fixtureActor, servers);
await startInProcess(relayActor, servers);
const nc = await servers.connectNats();
const mesh = new MeshClient(nc, { service: "tests" });
const relay = actorClient(mesh, relayContract);
after(async () => {
  mesh.close();
  await nc.close();
});

test("a call made inside work carries the work's tenant, trace id and deadline", async () => {
  const traceparent = newTraceparent();
  const deadline = Date.now() + 4000;
  const { own, downstream } = await relay.whoami({}, { tenant: "acme", traceparent, deadline });
  assert.equal(downstream.tenant, "acme");
  assert.equal(downstream.traceId, traceparent.slice(3, 35));
  assert.equal(own.deadline, deadline);
  assert.equal(downstream.deadline, deadline, "the remaining deadline, not a fresh default");
  assert.equal(downstream.idempotencyKey, undefined, "a read gets no automatic key");
});

test("timeoutMs shortens the inherited deadline but never extends it", async () => {
  const sentAt = Date.now();
  const shorter = await relay.whoami({ timeoutMs: 1000 }, { tenant: "acme", timeoutMs: 4000 });
  assert.ok(shorter.downstream.deadline < shorter.own.deadline);
  assert.ok(shorter.downstream.deadline >= sentAt + 1000 && shorter.downstream.deadline <= Date.now() + 1000);
  const longer = await relay.whoami({ timeoutMs: 60_000 }, { tenant: "acme", timeoutMs: 2000 });
  assert.equal(longer.downstream.deadline, longer.own.deadline);
});

test("an idempotency key given to the call is sent with it", async () => {
  const { downstream } = await relay.whoami({ idempotencyKey: "order-42" }, { tenant: "acme" });
  assert.equal(downstream.idempotencyKey, "order-42");
});

test("a malformed option reaches the callee as BAD_REQUEST, not a crash of the caller's work", async () => {
  const error = await relay.whoami({ idempotencyKey: "not a valid key!" }, { tenant: "acme" }).catch((e: unknown) => e);
  assert.equal((error as { code?: string }).code, "BAD_REQUEST");
});
