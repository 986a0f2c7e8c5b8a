/** The actor against its dependencies: the database going away, and discovery with the stock NATS CLI. */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { once } from "node:events";
import { promisify } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { goInstall, NATS_CLI_VERSION } from "../../sandbox/servers/cache.ts";
import { usePrivateMongo, useTestServers } from "../../sandbox/testing/test-servers.ts";
import { actorClient, isMeshError, MeshClient } from "../index.ts";
import { fixtureActor, fixtureContract, fixtureEvents } from "../testing/fixture-actors.ts";
import { startInProcess } from "../testing/replicas.ts";

const run = promisify(execFile);
const servers = await useTestServers();
const mongo = await usePrivateMongo();
await startInProcess(fixtureActor, { ...servers, mongoUrl: mongo.url }, { instanceId: "deps-a" });
await startInProcess(fixtureActor, { ...servers, mongoUrl: mongo.url }, { instanceId: "deps-b" });
const nc = await servers.connectNats();
const mesh = new MeshClient(nc);
const fixture = actorClient(mesh, fixtureContract);
after(async () => {
  mesh.close();
  await nc.close();
});

async function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(() => "OK", (error: unknown) => (isMeshError(error) ? error.code : String(error)));
}

test("with the database stopped requests fail fast with UNAVAILABLE, and recover by themselves when it is back", async () => {
  assert.equal(await codeOf(fixture.count({ amount: 1 }, { tenant: "db" })), "OK");
  await mongo.stop();
  const whileDown: string[] = [];
  for (let i = 0; i < 12; i++) whileDown.push(await codeOf(fixture.count({ amount: 1 }, { tenant: "db", maxAttempts: 1, timeoutMs: 4000 })));
  assert.deepEqual([...new Set(whileDown)], ["UNAVAILABLE"], "never TIMEOUT or INTERNAL");
  const error = await fixture.count({ amount: 1 }, { tenant: "db", maxAttempts: 1 }).catch((e: unknown) => e);
  assert.ok(isMeshError(error) && error.retryAfterMs !== undefined, "the open circuit says when to retry");
  await mongo.restart();
  let recovered = "UNAVAILABLE";
  for (let attempt = 0; attempt < 50 && recovered !== "OK"; attempt++) {
    await sleep(200); // the circuit half-opens on its own clock; nothing to await
    recovered = await codeOf(fixture.count({ amount: 1 }, { tenant: "db", maxAttempts: 1 }));
  }
  assert.equal(recovered, "OK");
});

test("an idempotent request that succeeded while its reply could not be stored still runs only once", async () => {
  const started = once(fixtureEvents, "record");
  // Retries cover a replica whose database circuit is still open from the test before.
  const first = fixture.record({ delayMs: 1500 }, { tenant: "db-once", idempotencyKey: "pay-1", timeoutMs: 30_000, maxAttempts: 5 })
    .then((value) => ({ value }), (error: unknown) => ({ error }));
  await Promise.race([started, first]);
  await mongo.stop(); // the handler finishes without the database; storing its reply fails
  assert.deepEqual(await first, { value: { executions: 1 } }, "the caller gets the result of the work that was done");
  await mongo.restart();
  const again = await fixture.record({ delayMs: 1500 }, { tenant: "db-once", idempotencyKey: "pay-1", timeoutMs: 30_000, maxAttempts: 10 });
  assert.deepEqual(again, { executions: 1 }, "the retry gets the stored reply: the work did not run again");
  assert.deepEqual(await fixture.executions({}, { tenant: "db-once" }), { executions: 1 });
});

test("the stock `nats micro ls` lists the actor with both instances, and `nats req` gets a reply", async () => {
  const natsCli = await goInstall("github.com/nats-io/natscli/nats", NATS_CLI_VERSION, "nats");
  const { stdout } = await run(natsCli, ["--server", servers.natsUrl, "--creds", servers.credentials.credsFiles.operator!, "micro", "ls", "--json"]);
  const listed = JSON.parse(stdout) as Array<{ name: string; id: string }>;
  const ids = listed.filter((s) => s.name === "fixture").map((s) => s.id).sort();
  assert.deepEqual(ids, ["deps-a", "deps-b"]);
  const info = await run(natsCli, ["--server", servers.natsUrl, "--creds", servers.credentials.credsFiles.operator!, "micro", "info", "fixture"]);
  assert.match(info.stdout, /fixture\.echo/);
  const reply = await run(natsCli, ["--server", servers.natsUrl, "--creds", servers.credentials.credsFiles.operator!, "req", "fixture.echo", '{"text":"hi"}', "-H", "Mw-Tenant:acme", "--raw"]);
  assert.equal(JSON.parse(reply.stdout).text, "hi");
});
