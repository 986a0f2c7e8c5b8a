/**
 * The mesh on a 3-node JetStream cluster (R3 streams and consumers) under steady request and
 * event load: a node SIGKILLed and restarted, then the stream leader SIGKILLed and restarted.
 * Nothing published is lost or applied twice; failed requests carry a typed error; the figures
 * (failures, seconds until requests and consumption resume) are printed as diagnostics.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { jetstreamManager } from "@nats-io/jetstream";
import { fixtureActor, fixtureSinkActor } from "../../runtime/testing/fixture-actors.ts";
import { startInProcess } from "../../runtime/testing/replicas.ts";
import { disruptionFigures, fixtureLoad, until, type Disruption } from "../testing/fixture-load.ts";
import { useTestServers } from "../testing/test-servers.ts";

const servers = await useTestServers({ natsCluster: 3 });
const cluster = servers.cluster!;
for (const id of ["a", "b"]) {
  await startInProcess(fixtureActor, servers, { instanceId: `cluster-fixture-${id}`, streamReplicas: 3 });
  await startInProcess(fixtureSinkActor, servers, { instanceId: `cluster-sink-${id}`, streamReplicas: 3 });
}
const nc = await servers.connectNats();
const jsm = await jetstreamManager(nc);
const load = fixtureLoad(nc, "cluster");
after(() => load.close());

async function streamLeader(stream: string): Promise<string> {
  const info = await jsm.streams.info(stream);
  return info.cluster?.leader ?? "";
}

test("3-node cluster under load: a node and then the stream leader SIGKILLed and restarted lose no event, apply none twice, and fail only with typed errors", { timeout: 180_000 }, async (t) => {
  // Streams and consumers are replicated on every node.
  assert.equal((await jsm.streams.info("EVENTS_FIXTURE")).config.num_replicas, 3);
  assert.equal((await jsm.consumers.info("EVENTS_FIXTURE", "fixture-sink--noted")).cluster?.replicas?.length, 2, "the durable has two followers besides its leader");
  const disruptions: Disruption[] = [];
  load.start();
  try {
    await until(async () => Object.keys(await load.applied()).length >= 20);
    const leader = await streamLeader("EVENTS_FIXTURE");
    const follower = cluster.nodes.find((node) => node.name !== leader)!;
    disruptions.push(await load.disrupt(`node ${follower.name} (not the stream leader)`, () => follower.kill(), () => follower.restart()));
    await load.settled();
    const newLeader = cluster.node(await streamLeader("EVENTS_FIXTURE"));
    disruptions.push(await load.disrupt(`stream leader ${newLeader.name}`, () => newLeader.kill(), () => newLeader.restart()));
    await load.settled();
  } finally {
    await load.stop();
  }
  const figures = await disruptionFigures(load, disruptions);
  t.diagnostic(JSON.stringify(figures.printable));
  assert.ok(disruptions.length === 2 && cluster.nodes.every((node) => node.isRunning()), "both killed nodes were restarted");
  assert.deepEqual(figures.untyped, [], "every failure is a typed error");
  assert.deepEqual(figures.lost, [], "no published event lost");
  assert.deepEqual(figures.twice, [], "no event applied twice");
});
