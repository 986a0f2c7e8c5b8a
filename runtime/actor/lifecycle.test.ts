/** Replicas as real processes: SIGKILL and SIGTERM mid-work lose nothing and apply nothing twice. */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { jetstreamManager } from "@nats-io/jetstream";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { actorClient, MeshClient } from "../index.ts";
import { fixtureActor, fixtureContract, fixtureSinkContract } from "../testing/fixture-actors.ts";
import { startInProcess, startReplicaProcess } from "../testing/replicas.ts";

const servers = await useTestServers();
await startInProcess(fixtureActor, servers, { maxInFlight: 64 });
const nc = await servers.connectNats();
const mesh = new MeshClient(nc);
const fixture = actorClient(mesh, fixtureContract);
const sink = actorClient(mesh, fixtureSinkContract);
after(async () => {
  mesh.close();
  await nc.close();
});

/** Polls a reading until it satisfies `done` (bounded); returns the last reading. */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await sleep(100);
    value = await read();
  }
  return value;
}

const appliedFor = (tenant: string) => () => sink.applied({}, { tenant, maxAttempts: 5 }).then((r) => r.values);

test("a failing event handler is retried, then dead-lettered with the reason and original headers", async () => {
  await startReplicaProcess("fixture-sink", servers);
  await fixture.emit({ value: "fail-always" }, { tenant: "dlq" });
  const jsm = await jetstreamManager(nc);
  const count = await until(() => jsm.streams.info("DLQ_FIXTURE_SINK").then((i) => i.state.messages, () => 0), (n) => n >= 1);
  assert.equal(count, 1);
  const dead = await jsm.streams.getMessage("DLQ_FIXTURE_SINK", { last_by_subj: "dlq.fixture-sink.events.fixture.noted" });
  assert.match(dead?.header.get("Mw-Dlq-Reason") ?? "", /UNAVAILABLE|max deliver/i);
  assert.equal(dead?.header.get("Mw-Tenant"), "dlq");
  assert.deepEqual(dead?.json(), { value: "fail-always" });
});

test("a consumer replica killed with SIGKILL mid-batch loses no event and applies none twice", async () => {
  const doomed = await startReplicaProcess("fixture-sink", servers, { FIXTURE_SINK_DELAY_MS: "40" });
  await startReplicaProcess("fixture-sink", servers, { FIXTURE_SINK_DELAY_MS: "40" });
  const values = Array.from({ length: 120 }, (_, n) => `kill-${n}`);
  for (const value of values) await fixture.emit({ value }, { tenant: "kill" });
  await until(appliedFor("kill"), (applied) => Object.keys(applied).length >= 20);
  doomed.child.kill("SIGKILL");
  await doomed.exited;
  const applied = await until(appliedFor("kill"), (a) => Object.keys(a).length === values.length);
  assert.equal(Object.keys(applied).length, values.length, "every event applied");
  assert.deepEqual(Object.values(applied).filter((times) => times !== 1), [], "no event applied twice");
  await fixture.emit({ value: "after-the-kill" }, { tenant: "kill" });
  const later = await until(appliedFor("kill"), (a) => a["after-the-kill"] === 1);
  assert.equal(later["after-the-kill"], 1, "the surviving replica keeps consuming");
});

test("SIGTERM drains a replica: in-flight requests are answered and events are not lost", async () => {
  const worker = await startReplicaProcess("fixture", servers, { MESHWORK_MAX_IN_FLIGHT: "64" });
  // Only the process replica may answer `slow`: the in-process one is busy elsewhere, so send
  // to both and require every single request to succeed while the process drains.
  const calls = Array.from({ length: 30 }, () => fixture.slow({ ms: 400 }, { tenant: "drain", timeoutMs: 5000, maxAttempts: 1 }));
  await sleep(100); // let the burst be admitted before the signal (the signal itself is the event under test)
  worker.child.kill("SIGTERM");
  const results = await Promise.allSettled(calls);
  assert.deepEqual(results.filter((r) => r.status === "rejected").map((r) => String((r as PromiseRejectedResult).reason)), []);
  const [code] = (await worker.exited) as [number | null];
  assert.equal(code, 0, "the replica exits 0 after draining");
});
