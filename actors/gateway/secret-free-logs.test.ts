/**
 * The gateway README promises that a key is never logged and that the access log carries neither
 * the key nor a body. The gateway here logs at `trace`, its most verbose level, into memory; every
 * kind of request a key or a prompt travels in is made, and the log is searched for them.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import OpenAI from "openai";
import { createLogger } from "../../runtime/observability/logger.ts";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { startGatewayMesh } from "./test-support.ts";

let logged = "";
const gatewayLogger = createLogger({ actor: "gateway", instance: "log-test", level: "trace", destination: { write: (line: string) => { logged += line; } } });
const servers = await useTestServers();
const mesh = await startGatewayMesh(servers, { gatewayLogger });

const PROMPT = "my-secret-prompt-7f3a";
const BODY_SECRET = "my-secret-body-field-91c2";

test("no key, prompt, completion or request body reaches the gateway's log, at its most verbose level", async () => {
  const created = await mesh.tenantWithKey("acme");
  const sdk = (apiKey: string) => new OpenAI({ baseURL: mesh.baseURL, apiKey, maxRetries: 0 });

  const completion = await sdk(created).chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: PROMPT }], max_tokens: 16 });
  const completionText = completion.choices[0]!.message.content!;
  const stream = await sdk(created).chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: PROMPT }], max_tokens: 16, stream: true });
  for await (const _chunk of stream);
  const call = (key: string, body: unknown) => fetch(`${mesh.url}/v1/tenants/get`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  assert.equal((await call(created, {})).status, 200);
  assert.equal((await call(created, { unexpected: BODY_SECRET })).status, 400);
  const wrongKey = "mw_abcdefgh_" + "x".repeat(43);
  assert.equal((await call(wrongKey, {})).status, 401);

  const prefix = created.slice(0, 11);
  const rotated = await mesh.keys.rotateKey({ prefix }, { tenant: "acme" });
  assert.equal((await call(created, {})).status, 401, "the rotated-away key is refused");
  assert.equal((await call(rotated.key, {})).status, 200);
  await mesh.keys.revokeKey({ prefix: rotated.prefix }, { tenant: "acme" });
  assert.equal((await call(rotated.key, {})).status, 401);

  const accessLines = logged.split("\n").filter((line) => line.includes('"http request"'));
  assert.ok(accessLines.length >= 8, `every HTTP request has its access line (found ${accessLines.length})`);
  assert.ok(accessLines.some((line) => line.includes('"tenant":"acme"')), "access lines name the tenant");
  for (const [what, secret] of Object.entries({ key: created, rotatedKey: rotated.key, wrongKey, keyBody: created.slice(12), prompt: PROMPT, completion: completionText, bodyField: BODY_SECRET })) {
    assert.ok(!logged.includes(secret), `the log contains the ${what}`);
  }
});
