import { test, after } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { jetstream } from "@nats-io/jetstream";
import { tenantsContract } from "../../protocol/tenants.ts";
import { hasCode, MeshClient } from "../../runtime/index.ts";
import { CHECKOUT_ROOT } from "../cli/cli-io.ts";
import { runMesh } from "../cli/program.ts";
import { WORK_DIR } from "../servers/index.ts";
import { startSandbox } from "../supervisor/start-sandbox.ts";
import { usePrivateMongo, useTestServers } from "../testing/test-servers.ts";
import { OPERATOR_TENANT } from "./ask-llm.ts";

const servers = await useTestServers();
// A database of the sandbox's own, so the test can stop it.
const database = await usePrivateMongo();
const workDir = join(WORK_DIR, "test", `diagnose-${randomBytes(4).toString("hex")}`);
const sandbox = await startSandbox({
  workDir,
  replicas: 1,
  env: { NATS_URL: servers.natsUrl, MONGO_URL: database.url },
  databasePrefix: servers.databasePrefix,
  credentialsDir: servers.credentials.dir,
  natsContextDir: join(workDir, "config", "nats", "context"),
});
servers.onCleanup(() => sandbox.stop());
after(() => rm(workDir, { recursive: true, force: true }));
const logs = join(workDir, "logs");

async function mesh(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const env = { NATS_URL: sandbox.natsUrl, NATS_CREDS: sandbox.natsCreds, MESHWORK_WEB_URL: sandbox.web.url };
  const code = await runMesh(argv, { root: CHECKOUT_ROOT, env, out: (t) => void (out += t), err: (t) => void (err += t) });
  return { code, out, err };
}

test("a dead-lettering consumer: the evidence names the consumer, the event and the reason, and the llm actor's diagnosis comes back through the mesh", async () => {
  // Staged fault: a usage event that breaks its schema, which the usage actor dead-letters.
  const deadLetters = sandbox.nc.subscribe("dlq.usage.>", { max: 1 });
  await jetstream(sandbox.nc).publish("events.llm.usage", JSON.stringify({ tenant: "acme", staged: "poison" }), { msgID: "staged-poison-1" });
  for await (const _ of deadLetters) break;

  const { code, out } = await mesh("diagnose", "--logs", logs);
  assert.equal(code, 0);
  assert.match(out, /consumer usage--usage dead-lettered 1 recent event of events\.llm\.usage; newest .* \(event staged-poison-1, 1 deliveries\): schema: /);
  assert.match(out, new RegExp(`^Diagnosis \\(llm actor, tenant ${OPERATOR_TENANT}, \\$\\d+\\.\\d+\\):\\n  reply:[0-9a-f]{12}`, "m"));
  // The operator tenant has its own policy and budget, made on first use.
  const client = new MeshClient(sandbox.nc, { service: "tests" });
  const policy = await client.request(tenantsContract.requests.get, {}, { tenant: OPERATOR_TENANT });
  client.close();
  assert.equal(policy.budget.amountUsd, 1);
});

test("a stopped database: the evidence names the failing subject, its UNAVAILABLE replies and the dead letter still there", async () => {
  await database.stop();
  const client = new MeshClient(sandbox.nc, { service: "tests", maxAttempts: 1 });
  for (let i = 0; i < 6; i++) {
    await assert.rejects(client.request(tenantsContract.requests.get, {}, { tenant: "acme", timeoutMs: 3000 }), (error) => hasCode(error, "UNAVAILABLE"));
  }
  client.close();
  // The replicas export their spans within a second: wait until the receiver has counted the refusals.
  while ((sandbox.web.spans.errorCounts()["tenants.get"]?.UNAVAILABLE ?? 0) < 6) await once(sandbox.web.spans, "spans");

  const { code, out } = await mesh("diagnose", "--logs", logs);
  assert.equal(code, 0);
  assert.match(out, /tenants\.get: \d+ of \d+ requests failed \(\d+%\), last error UNAVAILABLE; by code in recent traces: (.*, )?UNAVAILABLE \d+/);
  assert.match(out, /consumer usage--usage dead-lettered/);
  assert.match(out, /^(Diagnosis|No diagnosis) /m);
});

test("--no-llm prints the evidence alone; a missing log folder is said, not fatal; no mesh is exit 1", async () => {
  const { code, out } = await mesh("diagnose", "--no-llm", "--logs", join(workDir, "no-such-folder"));
  assert.equal(code, 0);
  assert.match(out, /not seen: no replica logs at .*no-such-folder/);
  assert.match(out, /^No diagnosis from the llm actor \(not asked \(--no-llm\)\): the evidence above stands alone\.$/m);
  const unreachable = await mesh("diagnose", "--server", "nats://127.0.0.1:1");
  assert.equal(unreachable.code, 1);
  assert.match(unreachable.err, /no mesh reachable at nats:\/\/127\.0\.0\.1:1/);
});
