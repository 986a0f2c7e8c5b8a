/**
 * The mesh on a 3-node JetStream cluster (R3 streams and consumers) under steady request and
 * event load: a node SIGKILLed and restarted, then the stream leader SIGKILLed and restarted.
 * Nothing published is lost or applied twice; failed requests carry a typed error; the figures
 * (failures, seconds until requests and consumption resume) are printed as diagnostics.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { jetstreamManager } from "@nats-io/jetstream";
import { actorClient, isMeshError, MeshClient } from "../../runtime/index.ts";
import { fixtureActor, fixtureContract, fixtureSinkActor, fixtureSinkContract } from "../../runtime/testing/fixture-actors.ts";
import { startInProcess } from "../../runtime/testing/replicas.ts";
import { useTestServers } from "../testing/test-servers.ts";
import type { NatsClusterNode } from "./nats-cluster.ts";

const servers = await useTestServers({ natsCluster: 3 });
const cluster = servers.cluster!;
for (const id of ["a", "b"]) {
  await startInProcess(fixtureActor, servers, { instanceId: `cluster-fixture-${id}`, streamReplicas: 3 });
  await startInProcess(fixtureSinkActor, servers, { instanceId: `cluster-sink-${id}`, streamReplicas: 3 });
}
const nc = await servers.connectNats();
const jsm = await jetstreamManager(nc);
const mesh = new MeshClient(nc, { service: "cluster-test" });
const fixture = actorClient(mesh, fixtureContract);
const sink = actorClient(mesh, fixtureSinkContract);
after(() => mesh.close());
const TENANT = "cluster";

const pace = (ms: number) => sleep(ms);

interface Outcome { readonly kind: "request" | "event"; readonly start: number; readonly end: number; readonly code: string }

/** Request loops (fixture.echo) and one event loop (fixture.emit; a failed emit is sent again with the same value until it is stored). */
function startLoad() {
  const outcomes: Outcome[] = [];
  const published = new Map<string, number>(); // value -> when the emit that stored it was sent
  let running = true;
  const attempt = async (kind: Outcome["kind"], call: () => Promise<unknown>): Promise<Outcome> => {
    const start = Date.now();
    const code = await call().then(() => "OK", (error: unknown) => (isMeshError(error) ? error.code : `untyped: ${String(error)}`));
    const outcome = { kind, start, end: Date.now(), code };
    outcomes.push(outcome);
    return outcome;
  };
  const requests = Array.from({ length: 3 }, async (_, loop) => {
    for (let n = 0; running; n++) {
      await attempt("request", () => fixture.echo({ text: `${loop}-${n}` }, { tenant: TENANT, timeoutMs: 2000, maxAttempts: 1 }));
      await pace(20); // steady load: a failure that comes back at once must not spin the loop
    }
  });
  const events = (async () => {
    for (let n = 0; running; n++) {
      const value = `event-${n}`;
      let outcome = await attempt("event", () => fixture.emit({ value }, { tenant: TENANT, timeoutMs: 3000, maxAttempts: 1 }));
      while (outcome.code !== "OK") {
        if (!running) return;
        await pace(50);
        outcome = await attempt("event", () => fixture.emit({ value }, { tenant: TENANT, timeoutMs: 3000, maxAttempts: 1 }));
      }
      published.set(value, outcome.start);
      await pace(50);
    }
  })();
  return {
    outcomes, published,
    async stop() {
      running = false;
      await Promise.all([...requests, events]);
    },
  };
}

function progress(text: string): void {
  if (process.env.CLUSTER_TEST_PROGRESS) process.stderr.write(`${new Date().toISOString()} ${text}\n`);
}

async function applied(): Promise<Record<string, number>> {
  return (await sink.applied({}, { tenant: TENANT, timeoutMs: 3000, maxAttempts: 3 })).values;
}

/** Polls `read` until it is true; the cluster tells us nothing when it has recovered. */
async function until(read: () => Promise<boolean> | boolean, timeoutMs = 40_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await Promise.resolve().then(read).catch(() => false))) {
    if (Date.now() > deadline) throw new Error("condition not reached");
    await sleep(50);
  }
}

async function streamLeader(stream: string): Promise<string> {
  const info = await jsm.streams.info(stream);
  return info.cluster?.leader ?? "";
}

interface Disruption { readonly what: string; readonly at: number; readonly requestsResumedS: number; readonly publishingResumedS: number; readonly consumptionResumedS: number }

/** Kills `node`, measures until a request and an event started after the kill succeed, restarts it. */
async function killAndRestart(what: string, node: NatsClusterNode, load: ReturnType<typeof startLoad>): Promise<Disruption> {
  const at = Date.now();
  await node.kill();
  progress(`killed ${what}`);
  await until(() => load.outcomes.some((o) => o.kind === "request" && o.start > at && o.code === "OK"));
  progress("requests resumed");
  const requestsResumedAt = Math.min(...load.outcomes.filter((o) => o.kind === "request" && o.start > at && o.code === "OK").map((o) => o.end));
  // Publishing has resumed when an emit sent after the kill stored its event; consumption when that event is applied.
  await until(() => [...load.published.values()].some((sent) => sent > at));
  const firstAfter = [...load.published.entries()].find(([, sent]) => sent > at)![0];
  const publishedAt = load.outcomes.find((o) => o.kind === "event" && o.code === "OK" && o.start === load.published.get(firstAfter))!.end;
  await until(async () => (await applied())[firstAfter] === 1);
  const consumptionResumedAt = Date.now();
  progress(`consumption resumed after ${(consumptionResumedAt - at) / 1000} s; restarting ${node.name}`);
  await node.restart();
  return { what, at, requestsResumedS: (requestsResumedAt - at) / 1000, publishingResumedS: (publishedAt - at) / 1000, consumptionResumedS: (consumptionResumedAt - at) / 1000 };
}

test("3-node cluster under load: a node and then the stream leader SIGKILLed and restarted lose no event, apply none twice, and fail only with typed errors", { timeout: 180_000 }, async (t) => {
  // Streams and consumers are replicated on every node.
  assert.equal((await jsm.streams.info("EVENTS_FIXTURE")).config.num_replicas, 3);
  assert.equal((await jsm.consumers.info("EVENTS_FIXTURE", "fixture-sink--noted")).cluster?.replicas?.length, 2, "the durable has two followers besides its leader");
  const load = startLoad();
  const disruptions: Disruption[] = [];
  /** Steady state again: five more events applied than now. */
  const settled = async () => {
    const now = Object.keys(await applied()).length;
    await until(async () => Object.keys(await applied()).length >= now + 5);
  };
  try {
    await until(async () => Object.keys(await applied()).length >= 20);
    const leader = await streamLeader("EVENTS_FIXTURE");
    const follower = cluster.nodes.find((node) => node.name !== leader)!;
    disruptions.push(await killAndRestart(`node ${follower.name} (not the stream leader)`, follower, load));
    await settled();
    const newLeader = await streamLeader("EVENTS_FIXTURE");
    disruptions.push(await killAndRestart(`stream leader ${newLeader}`, cluster.node(newLeader), load));
    await settled();
  } finally {
    await load.stop();
  }

  const values = [...load.published.keys()];
  await until(async () => { const a = await applied(); return values.every((v) => a[v] !== undefined); }, 60_000).catch(() => undefined);
  const final = await applied();
  const lost = values.filter((v) => final[v] === undefined);
  const twice = Object.entries(final).filter(([, times]) => times !== 1);
  const failures = load.outcomes.filter((o) => o.code !== "OK");
  const inFlightAtKill = (o: Outcome) => disruptions.some((d) => o.start <= d.at && o.end >= d.at);
  const byCode = (list: Outcome[]) => {
    const counts = new Map<string, number>();
    for (const o of list) counts.set(`${o.kind} ${o.code}`, (counts.get(`${o.kind} ${o.code}`) ?? 0) + 1);
    return [...counts].map(([key, n]) => `${key}: ${n}`).join(", ") || "none";
  };
  const figures = {
    requests: load.outcomes.filter((o) => o.kind === "request").length,
    emits: load.outcomes.filter((o) => o.kind === "event").length,
    eventsPublished: values.length,
    failedInFlightAtKill: byCode(failures.filter(inFlightAtKill)),
    failedAfterKill: byCode(failures.filter((o) => !inFlightAtKill(o))),
    eventsLost: lost.length,
    eventsAppliedTwice: twice.length,
    disruptions: disruptions.map(({ at: _at, ...figures }) => figures),
  };
  t.diagnostic(JSON.stringify(figures));
  assert.ok(disruptions.length === 2 && cluster.nodes.every((node) => node.isRunning()), "both killed nodes were restarted");
  assert.deepEqual(failures.filter((o) => o.code.startsWith("untyped")), [], "every failure is a typed error");
  assert.deepEqual(lost, [], "no published event lost");
  assert.deepEqual(twice, [], "no event applied twice");
});
