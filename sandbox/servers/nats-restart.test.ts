/**
 * One nats-server SIGKILLed under request and event load and started again on its port and data:
 * requests and consumption resume by themselves (clients reconnect, the durable consumer is
 * still there), no event that was stored is lost or applied twice, failures are typed errors.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { fixtureActor, fixtureSinkActor } from "../../runtime/testing/fixture-actors.ts";
import { startInProcess } from "../../runtime/testing/replicas.ts";
import { disruptionFigures, fixtureLoad, until } from "../testing/fixture-load.ts";
import { useTestServers } from "../testing/test-servers.ts";

const servers = await useTestServers();
await startInProcess(fixtureActor, servers, { instanceId: "restart-fixture" });
await startInProcess(fixtureSinkActor, servers, { instanceId: "restart-sink" });
const nc = await servers.connectNats(undefined, { maxReconnectAttempts: -1, reconnectTimeWait: 100 });
const load = fixtureLoad(nc, "restart");
after(() => load.close());

test("a single nats-server SIGKILLed under load and restarted: requests and consumption resume, nothing stored is lost or applied twice", { timeout: 120_000 }, async (t) => {
  load.start();
  let disruption;
  try {
    await until(async () => Object.keys(await load.applied()).length >= 10);
    // Resume times count from the kill and include the restart (the server answering again).
    disruption = await load.disrupt("the nats-server (killed and restarted)", async () => {
      await servers.nats.kill();
      await servers.nats.restart();
    }, async () => {});
    await load.settled();
  } finally {
    await load.stop();
  }
  const figures = await disruptionFigures(load, [disruption]);
  t.diagnostic(JSON.stringify(figures.printable));
  assert.deepEqual(figures.untyped, [], "every failure is a typed error");
  assert.deepEqual(figures.lost, [], "no stored event lost");
  assert.deepEqual(figures.twice, [], "no event applied twice");
});
