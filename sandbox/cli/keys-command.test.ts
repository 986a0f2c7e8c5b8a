import assert from "node:assert/strict";
import { test } from "node:test";
import OpenAI from "openai";
import { startGatewayMesh } from "../../actors/gateway/test-support.ts";
import { useTestServers } from "../testing/test-servers.ts";
import { CHECKOUT_ROOT } from "./cli-io.ts";
import { runMesh } from "./program.ts";

const servers = await useTestServers();
const gateway = await startGatewayMesh(servers);
await gateway.createTenant("acme");

async function mesh(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const env = { NATS_URL: servers.natsUrl, NATS_CREDS: servers.credentials.credsFiles.operator! };
  const code = await runMesh(argv, { root: CHECKOUT_ROOT, env, out: (t) => void (out += t), err: (t) => void (err += t) });
  return { code, out, err };
}
const works = (key: string) => new OpenAI({ baseURL: gateway.baseURL, apiKey: key, maxRetries: 0 }).models.list().then(() => true, () => false);

test("mesh keys create prints a key once; ls shows prefixes only; revoke and rotate take effect", async () => {
  const created = await mesh("keys", "create", "acme", "--label", "ci");
  assert.equal(created.code, 0, created.err);
  const key = created.out.trim();
  assert.match(key, /^mw_[A-Za-z0-9]{8}_[A-Za-z0-9_-]{43}$/);
  assert.equal(await works(key), true);

  const listed = await mesh("keys", "ls", "acme");
  assert.equal(listed.code, 0, listed.err);
  assert.ok(listed.out.includes(key.slice(0, 11)) && !listed.out.includes(key), "the prefix, never the key");
  assert.match(listed.out, /ci .* active/);

  const rotated = await mesh("keys", "rotate", "acme", key.slice(0, 11));
  assert.equal(rotated.code, 0, rotated.err);
  const next = rotated.out.trim();
  assert.notEqual(next, key);
  assert.deepEqual([await works(key), await works(next)], [false, true], "the old key is revoked, the new one works");

  const revoked = await mesh("keys", "revoke", "acme", next.slice(0, 11));
  assert.equal(revoked.code, 0, revoked.err);
  assert.equal(await works(next), false);
  assert.match((await mesh("keys", "ls", "acme")).out, /ci .* revoked .*\n.*ci .* revoked/);
});

test("bad input: a malformed tenant or prefix exits 2, an unknown prefix is NOT_FOUND", async () => {
  assert.equal((await mesh("keys", "create", "Not A Tenant")).code, 2);
  assert.equal((await mesh("keys", "revoke", "acme", "sk-whatever")).code, 2);
  const unknown = await mesh("keys", "revoke", "acme", "mw_00000000");
  assert.equal(unknown.code, 1);
  assert.match(unknown.out, /NOT_FOUND/);
});
