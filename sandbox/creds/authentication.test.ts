import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { connect } from "@nats-io/transport-node";
import { natsAuthFromCreds } from "../../runtime/auth/nats-credentials.ts";
import { WORK_DIR, startNatsServer } from "../servers/index.ts";
import { waitUntil } from "../servers/supervised-process.ts";
import { addService, addTenant, CredsError, rotateUser } from "./creds-operations.ts";
import { DEMO_SERVICE } from "./mesh-credentials.ts";
import { issueMeshCredentials } from "./mesh-credentials.ts";

const dir = join(WORK_DIR, "test", `creds-${randomBytes(4).toString("hex")}`);
const credentials = await issueMeshCredentials(dir);
await addService(dir, "nightly-report", { calls: ["usage"], expiresAt: Math.floor(Date.now() / 1000) - 60 });
const nats = await startNatsServer(join(dir, "server"), { credentials });
after(() => nats.stop());

/** Connects as the holder of this creds file would; resolves to "connected" or the refusal. */
async function attempt(credsFile?: string): Promise<string> {
  try {
    const nc = await connect({ servers: nats.url, ...(credsFile ? natsAuthFromCreds(credsFile) : {}), reconnect: false, timeout: 5000 });
    await nc.close();
    return "connected";
  } catch (error) {
    return String(error);
  }
}

test("a connection without credentials is refused", async () => {
  assert.match(await attempt(), /Authorization Violation/i);
});

test("every issued user connects; a user whose creds expired is refused", async () => {
  for (const user of ["operator", "tenants", "llm", DEMO_SERVICE, "tenant-acme"]) {
    assert.equal(await attempt(credentials.credsFiles[user]), "connected", user);
  }
  assert.match(await attempt(join(dir, "nightly-report.creds")), /Authorization Violation|expired/i);
});

test("a rotated user's old creds are refused after the server reloads; the new ones work", async () => {
  const oldCreds = join(dir, "demo-service-before-rotation.creds");
  writeFileSync(oldCreds, readFileSync(credentials.credsFiles[DEMO_SERVICE]!));
  const rotated = await rotateUser(dir, DEMO_SERVICE);
  assert.notEqual(readFileSync(rotated.credsFiles[DEMO_SERVICE]!, "utf8"), readFileSync(oldCreds, "utf8"));
  assert.ok(nats.reload?.(), "the server took the reload signal");
  assert.ok(await waitUntil(async () => (await attempt(oldCreds)) !== "connected", 10_000), "revoked key refused once reloaded");
  assert.match(await attempt(oldCreds), /Authorization Violation|revoked/i);
  assert.equal(await attempt(rotated.credsFiles[DEMO_SERVICE]), "connected");
});

test("bad grants are refused with a reason and change nothing", async () => {
  const before = readFileSync(join(dir, "grants.json"), "utf8");
  await assert.rejects(addService(dir, "billing", { calls: ["tenants", "no-such-actor"] }), (error: unknown) => error instanceof CredsError && /no-such-actor/.test(error.message));
  await assert.rejects(addService(dir, "Bad Name", { calls: ["tenants"] }), CredsError);
  await assert.rejects(addTenant(dir, "ACME!"), CredsError);
  await assert.rejects(rotateUser(dir, "nobody"), CredsError);
  assert.equal(readFileSync(join(dir, "grants.json"), "utf8"), before);
});
