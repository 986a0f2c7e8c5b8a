import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { MeshClient } from "../../runtime/index.ts";
import { seedDemoTenants } from "../demo/demo-tenants.ts";
import { goInstall, NATS_CLI_VERSION } from "../servers/cache.ts";
import { WORK_DIR } from "../servers/index.ts";
import { SANDBOX_CONTEXT, startSandbox } from "../supervisor/start-sandbox.ts";
import { useTestServers } from "../testing/test-servers.ts";

const run = promisify(execFile);
const servers = await useTestServers();
const natsCli = await goInstall("github.com/nats-io/natscli/nats", NATS_CLI_VERSION, "nats");
const workDir = join(WORK_DIR, "test", `sandbox-${randomBytes(4).toString("hex")}`);
const sandbox = await startSandbox({
  workDir, actors: ["tenants"], replicas: 2, databasePrefix: servers.databasePrefix,
  env: { NATS_URL: servers.natsUrl, MONGO_URL: servers.mongoUrl },
  // The server was configured from these credentials; the CLI context goes to a private config folder.
  credentialsDir: servers.credentials.dir,
  natsContextDir: join(workDir, "config", "nats", "context"),
});
const seeder = new MeshClient(sandbox.nc);
await seedDemoTenants(seeder);
seeder.close();
servers.onCleanup(() => sandbox.stop()); // while NATS still runs, so the replicas can drain
after(() => rm(workDir, { recursive: true, force: true }));

// As a person would after `make sandbox`: through the context the sandbox wrote (operator creds).
const cliEnv = { ...process.env, NO_COLOR: "1", XDG_CONFIG_HOME: join(workDir, "config") };
const nats = (...args: string[]) => run(natsCli, ["--context", SANDBOX_CONTEXT, ...args], { env: cliEnv });
/** The CLI as a caller holding one of the demo creds files. */
const natsAs = (user: string, ...args: string[]) => run(natsCli, [
  "--server", sandbox.natsUrl, "--creds", servers.credentials.credsFiles[user]!, "--inbox-prefix", `_INBOX.${user}`, ...args,
], { env: cliEnv });

test("the stock nats CLI lists the sandbox's actor with both instances (nats micro ls)", async () => {
  const { stdout } = await nats("micro", "ls");
  const [first, second] = sandbox.supervisor.view()[0]!.replicas.map((r) => r.instanceId);
  assert.match(stdout, /│ tenants +│ 1\.0\.0 +│ tenants-\d-[0-9a-f]{4} +│ Per-tenant configuration/);
  assert.ok(stdout.includes(first!) && stdout.includes(second!), stdout);
});

test("nats req with the documented header gets the tenant's policy; a bad tenant gets the typed error", async () => {
  const { stdout } = await nats("req", "tenants.get", "{}", "-H", "Mw-Tenant:acme");
  const policy = JSON.parse(stdout.trim());
  assert.equal(policy.tenantId, "acme");
  assert.equal(policy.budget.amountUsd, 0.004);
  const missing = await nats("req", "tenants.get", "{}", "-H", "Mw-Tenant:nobody");
  assert.deepEqual(JSON.parse(missing.stdout.trim()), { error: { code: "NOT_FOUND", message: "unknown tenant nobody" } });
  assert.match(missing.stderr, /Mw-Error: NOT_FOUND/);
});

test("without credentials the server refuses the CLI; with tenant-acme's it acts only as acme", async () => {
  const anonymous = await run(natsCli, ["--server", sandbox.natsUrl, "req", "tenants.get", "{}", "-H", "Mw-Tenant:acme"], { env: cliEnv }).catch((error: { stderr: string }) => error);
  assert.match((anonymous as { stderr: string }).stderr, /Authorization Violation/i);
  const own = await natsAs("tenant-acme", "req", "tenants.get", "{}", "-H", "Mw-Tenant:acme");
  assert.equal(JSON.parse(own.stdout.trim()).tenantId, "acme");
  const other = await natsAs("tenant-acme", "req", "tenants.get", "{}", "-H", "Mw-Tenant:globex");
  assert.equal(JSON.parse(other.stdout.trim()).error.code, "FORBIDDEN");
  const put = await natsAs("demo-service", "req", "tenants.put", "{}", "-H", "Mw-Tenant:acme").catch((error: { stderr: string }) => error);
  assert.match((put as { stderr: string }).stderr, /Permissions Violation for Publish to "tenants.put"/i);
});
