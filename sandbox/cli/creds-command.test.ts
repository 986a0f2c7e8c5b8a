import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { access, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { after, test } from "node:test";
import { WORK_DIR } from "../servers/index.ts";
import { CHECKOUT_ROOT } from "./cli-io.ts";
import { runMesh } from "./program.ts";

const dir = join(WORK_DIR, "test", `creds-cli-${randomBytes(4).toString("hex")}`);
after(() => rm(dir, { recursive: true, force: true }));

async function mesh(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runMesh(argv, { root: CHECKOUT_ROOT, env: {}, out: (t) => void (out += t), err: (t) => void (err += t) });
  return { code, out, err };
}

test("mesh creds issue writes every user's creds, the server's auth config and the MongoDB users", async () => {
  const issued = await mesh("creds", "--dir", dir, "issue");
  assert.equal(issued.code, 0, issued.err);
  for (const file of ["operator.creds", "actor-llm.creds", "demo-service.creds", "tenant-acme.creds", "nats-auth.conf", "grants.json", "mongo-init.js", "mongo-usage.env"]) {
    await access(join(dir, file));
  }
  assert.match(issued.out, /demo-service +\S+demo-service\.creds/);
});

test("mesh creds add-service and add-tenant grant what they are told, and say where the creds are", async () => {
  const service = await mesh("creds", "--dir", dir, "add-service", "billing", "--calls", "tenants,usage", "--role", "tenant-admin");
  assert.equal(service.code, 0, service.err);
  assert.match(service.out, /billing +\S+billing\.creds/);
  const grants = JSON.parse(await readFile(join(dir, "grants.json"), "utf8"));
  assert.deepEqual(grants.services.billing, { calls: ["tenants", "usage"], roles: ["tenant-admin"] });
  const tenant = await mesh("creds", "--dir", dir, "add-tenant", "globex");
  assert.equal(tenant.code, 0, tenant.err);
  await access(join(dir, "tenant-globex.creds"));
});

test("bad arguments exit 2 with the reason and grant nothing", async () => {
  const before = await readFile(join(dir, "grants.json"), "utf8");
  const role = await mesh("creds", "--dir", dir, "add-service", "x", "--calls", "tenants", "--role", "root");
  assert.equal(role.code, 2);
  assert.match(role.err, /unknown role root/);
  const actor = await mesh("creds", "--dir", dir, "add-service", "x", "--calls", "payroll");
  assert.equal(actor.code, 2);
  assert.match(actor.err, /not actors of this mesh: payroll/);
  const days = await mesh("creds", "--dir", dir, "add-service", "x", "--calls", "tenants", "--expires-in-days", "soon");
  assert.equal(days.code, 2);
  const tenant = await mesh("creds", "--dir", dir, "add-tenant", "Not A Tenant");
  assert.equal(tenant.code, 2);
  assert.equal(await readFile(join(dir, "grants.json"), "utf8"), before);
});
