import { test, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { access, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { runMesh } from "../cli/program.ts";
import { CHECKOUT_ROOT } from "../cli/cli-io.ts";
import { gatherInstanceStats } from "../cli/inspect.ts";
import { startDemo } from "../demo/demo.ts";
import { WORK_DIR } from "../servers/index.ts";
import { useTestServers } from "../testing/test-servers.ts";
import type { SupervisorEvent } from "./replica-supervisor.ts";
import { readSandboxEnv } from "./sandbox-env.ts";
import { startSandbox } from "./start-sandbox.ts";

const servers = await useTestServers();
const workDir = join(WORK_DIR, "test", `sandbox-${randomBytes(4).toString("hex")}`);
const listeners = new Set<(event: SupervisorEvent) => void>();
const sandbox = await startSandbox({
  workDir,
  actors: ["tenants"],
  replicas: 2,
  env: { NATS_URL: servers.natsUrl, MONGO_URL: servers.mongoUrl },
  databasePrefix: servers.databasePrefix,
  credentialsDir: servers.credentials.dir,
  natsContextDir: join(workDir, "config", "nats", "context"),
  onEvent: (event) => listeners.forEach((listener) => listener(event)),
});
// Steady tenants.get traffic from one simulated service, about 20 requests a second.
const demo = await startDemo(sandbox, { services: ["admin-portal"], intensity: 10 });
// While NATS still runs, so the replicas can drain.
servers.onCleanup(async () => {
  await demo.stop();
  await sandbox.stop();
});
after(() => rm(workDir, { recursive: true, force: true }));

function nextEvent(matches: (event: SupervisorEvent) => boolean): Promise<SupervisorEvent> {
  return new Promise((resolve) => {
    const listener = (event: SupervisorEvent) => {
      if (!matches(event)) return;
      listeners.delete(listener);
      resolve(event);
    };
    listeners.add(listener);
  });
}

async function mesh(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runMesh(argv, { root: CHECKOUT_ROOT, env: { NATS_URL: sandbox.natsUrl, NATS_CREDS: sandbox.natsCreds }, out: (t) => void (out += t), err: (t) => void (err += t) });
  return { code, out, err };
}

const instances = async () => (await gatherInstanceStats(sandbox.nc, 1000, "tenants")).length;

test("the sandbox announces itself in sandbox.env and refuses to start twice on one work folder", async () => {
  assert.deepEqual(sandbox.failedActors, []);
  const env = await readSandboxEnv(sandbox.envFile);
  assert.equal(env?.NATS_URL, servers.natsUrl);
  assert.equal(env?.MONGO_URL, servers.mongoUrl);
  assert.equal(env?.OPENAI_BASE_URL, sandbox.provider.baseURL);
  assert.equal(env?.MESHWORK_SANDBOX_PID, String(process.pid));
  assert.equal(env?.NATS_CREDS, servers.credentials.credsFiles.operator);
  await assert.rejects(startSandbox({ workDir, env: { NATS_URL: servers.natsUrl, MONGO_URL: servers.mongoUrl } }), /a sandbox is already running/);
  assert.equal(await instances(), 2);
});

test("mesh scale to 4 and back to 1 under steady traffic loses no request", async () => {
  await demo.measurements.untilMoreCalls(20);
  const up = await mesh("scale", "tenants", "4");
  assert.equal(up.code, 0, up.err);
  assert.match(up.out, /^tenants: 4\/4 replicas ready/);
  assert.equal(await instances(), 4);
  await demo.measurements.untilMoreCalls(40);
  const down = await mesh("scale", "tenants", "1");
  assert.equal(down.code, 0, down.err);
  assert.equal(await instances(), 1);
  await demo.measurements.untilMoreCalls(40);
  const [tenants] = demo.measurements.actors();
  assert.ok(tenants && tenants.calls >= 100, `calls: ${tenants?.calls}`);
  assert.deepEqual(tenants.errors, {});
  assert.equal(demo.measurements.failures, 0);

  const status = await mesh("status");
  assert.equal(status.code, 0);
  assert.match(status.out, /^tenants 1\.0\.0: 1 instance \(sandbox wants 1\)$/m);
  assert.match(status.out, /^ {2}tenants\.get +\d+ +0 /m);
});

test("mesh scale rejects unknown actors and bad counts", async () => {
  const unknown = await mesh("scale", "nobody", "2");
  assert.equal(unknown.code, 1);
  assert.match(unknown.err, /NOT_FOUND: unknown actor "nobody"; the sandbox runs: tenants/);
  for (const count of ["17", "-1", "two"]) assert.equal((await mesh("scale", "tenants", count)).code, 2, count);
});

test("mesh req gets a running actor's reply, or prints the typed error and fails", async () => {
  const ok = await mesh("req", "tenants.get", "{}", "--tenant", "acme");
  assert.equal(ok.code, 0, ok.out);
  assert.equal(JSON.parse(ok.out).tenantId, "acme");
  const missing = await mesh("req", "tenants.get", "{}", "--tenant", "nobody", "--timeout", "2000");
  assert.equal(missing.code, 1);
  assert.equal(JSON.parse(missing.out).error.code, "NOT_FOUND");
  const noTenant = await mesh("req", "tenants.get", "{}");
  assert.equal(JSON.parse(noTenant.out).error.code, "BAD_REQUEST");
  assert.equal((await mesh("req", "tenants.get", "{not json", "--tenant", "acme")).code, 2);
  assert.equal((await mesh("req", "tenants.*", "{}")).code, 2);
  assert.equal((await mesh("req", "tenants.get", "{}", "--timeout", "soon")).code, 2);
});

test("a replica that crashes is restarted in its slot", async () => {
  const [replica] = sandbox.supervisor.view().find((v) => v.actor === "tenants")!.replicas;
  assert.ok(replica);
  const crashed = nextEvent((e) => e.type === "crashed" && e.instanceId === replica.instanceId);
  const restarted = nextEvent((e) => e.type === "ready" && e.slot === replica.slot);
  process.kill(Number(await readFile(`${replica.logFile}.pid`, "utf8")), "SIGKILL");
  assert.equal((await crashed).type, "crashed");
  const ready = await restarted;
  assert.notEqual(ready.instanceId, replica.instanceId);
  assert.equal(sandbox.supervisor.view()[0]?.replicas[0]?.restarts, 1);
});

test("stopping drains the replicas and removes sandbox.env; then nothing answers", async () => {
  await demo.stop();
  const stopped = nextEvent((e) => e.type === "stopped");
  await sandbox.stop();
  await stopped;
  await assert.rejects(access(sandbox.envFile));
  assert.deepEqual(sandbox.supervisor.view()[0]?.replicas, []);
  const status = await mesh("status", "--wait", "300");
  assert.match(status.out, /no actor answered/);
  const scale = await mesh("scale", "tenants", "2");
  assert.equal(scale.code, 1);
  assert.match(scale.err, /no sandbox answers on mesh\.sandbox\.scale/);
});
