/** A replica that stops answering (here: SIGSTOP) must cost a caller one attempt, not its whole deadline. */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { actorClient, MeshClient } from "../index.ts";
import { fixtureContract } from "../testing/fixture-actors.ts";
import { startReplicaProcess } from "../testing/replicas.ts";

const servers = await useTestServers();
const live = await startReplicaProcess("fixture", servers);
const frozen = await startReplicaProcess("fixture", servers);
const nc = await servers.connectNats();
const mesh = new MeshClient(nc, { service: "tests" });
const fixture = actorClient(mesh, fixtureContract);
after(async () => {
  mesh.close();
  await nc.close();
});

test("with one replica frozen, keyed mutating calls with attempt timeouts all succeed, and each runs once", async () => {
  frozen.child.kill("SIGSTOP");
  const calls = Array.from({ length: 10 }, (_, i) =>
    // One tenant per call: the fixture counts executions with $inc, which FerretDB does not make atomic across concurrent calls.
    fixture.count({ amount: 1 }, { tenant: `lost-${i}`, idempotencyKey: `order-${i}`, attemptTimeoutMs: 400, maxAttempts: 12, timeoutMs: 15_000 }));
  const results = await Promise.all(calls);
  assert.equal(results.length, 10);
  // The frozen replica wakes up with the attempts it swallowed; draining it runs them (or replays them).
  frozen.child.kill("SIGCONT");
  frozen.child.kill("SIGTERM");
  await frozen.exited;
  const executions = await Promise.all(results.map((_, i) => fixture.executions({}, { tenant: `lost-${i}` })));
  assert.deepEqual(executions.map((e) => e.executions), Array(10).fill(1), "no lost attempt ran a second time");
  assert.ok(live.child.exitCode === null);
});
