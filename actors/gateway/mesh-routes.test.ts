import assert from "node:assert/strict";
import { test } from "node:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { MESH_CONTRACTS } from "./contracts.ts";
import { startGatewayMesh } from "./test-support.ts";
import { once } from "node:events";
import { connect } from "node:net";
import { startActorForTest } from "../llm/test-support.ts";
import { createGatewayActor, type GatewayHandle } from "./actor.ts";

const slowHandle: GatewayHandle = { port: 0 };

const servers = await useTestServers();
const mesh = await startGatewayMesh(servers);
const key = await mesh.tenantWithKey("acme");
const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${mesh.url}${path}`, { method: "POST", body: typeof body === "string" ? body : JSON.stringify(body), headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers } });

test("/openapi.json validates as OpenAPI 3.1 and lists every request subject of every actor", async () => {
  const document = await (await fetch(`${mesh.url}/openapi.json`)).json() as { openapi: string; paths: Record<string, { post?: { "x-mesh-subject"?: string } }> };
  const result = await new Validator().validate(document as unknown as Parameters<Validator["validate"]>[0]);
  assert.equal(result.valid, true, JSON.stringify(result.errors));
  assert.equal(document.openapi, "3.1.0");
  const listed = new Set(Object.values(document.paths).map((path) => path.post?.["x-mesh-subject"]).filter(Boolean));
  const subjects = MESH_CONTRACTS.flatMap((contract) => Object.values(contract.requests).map((request) => request.subject));
  assert.ok(subjects.length >= 12);
  for (const subject of subjects) assert.ok(listed.has(subject), `${subject} is in the document`);
});

test("POST /v1/<actor>/<verb> calls the subject as the key's tenant; a schema violation is 400 with zod's issues", async () => {
  const policy = await post("/v1/tenants/get", {});
  assert.equal(policy.status, 200);
  assert.equal(((await policy.json()) as { tenantId: string }).tenantId, "acme");

  const bad = await post("/v1/llm/complete", { model: "gpt-4o-mini", messages: [], maxTokens: "many" });
  assert.equal(bad.status, 400);
  const body = (await bad.json()) as { error: { code: string; issues: { path: (string | number)[] }[] } };
  assert.equal(body.error.code, "BAD_REQUEST");
  assert.deepEqual(body.error.issues.map((issue) => issue.path.join(".")).sort(), ["maxTokens", "messages"]);
  assert.equal((await post("/v1/llm/complete", "{not json")).status, 400);
});

test("requests not open to tenants are 403, unknown ones 404, and the tenant header of a client is ignored", async () => {
  assert.equal((await post("/v1/tenants/put", { policy: {}, expectedVersion: 0 })).status, 403);
  assert.equal((await post("/v1/gateway/create-key", {})).status, 403);
  assert.equal((await post("/v1/nope/nothing", {})).status, 404);
  await mesh.createTenant("globex");
  const spoofed = await post("/v1/tenants/get", {}, { "mw-tenant": "globex" });
  assert.equal(((await spoofed.json()) as { tenantId: string }).tenantId, "acme");
});

test("malformed trace, timeout and idempotency headers are 400", async () => {
  assert.equal((await post("/v1/tenants/get", {}, { traceparent: "nonsense" })).status, 400);
  assert.equal((await post("/v1/tenants/get", {}, { "mw-timeout-ms": "-5" })).status, 400);
  assert.equal((await post("/v1/tenants/get", {}, { "idempotency-key": "x".repeat(200) })).status, 400);
  assert.equal((await post("/v1/tenants/get", {}, { traceparent: `00-${"a".repeat(32)}-${"b".repeat(16)}-01`, "idempotency-key": "req-1", "mw-timeout-ms": "2000" })).status, 200);
});

test("operations: health, readiness, metrics per route and status; a client too slow with its headers is cut off", async () => {
  assert.equal((await fetch(`${mesh.url}/healthz`)).status, 200);
  assert.equal((await fetch(`${mesh.url}/readyz`)).status, 200);
  await post("/v1/tenants/get", {});
  await post("/v1/nope/nothing", {});
  const metrics = await (await fetch(`${mesh.url}/metrics`)).text();
  assert.match(metrics, /gateway_http_requests_total\{route="\/v1\/:actor\/:verb",method="POST",status="200"\} \d+/);
  assert.match(metrics, /gateway_http_requests_total\{route="\/v1\/:actor\/:verb",method="POST",status="404"\} \d+/);

  const slow = await startActorForTest(createGatewayActor({ port: 0, headersTimeoutMs: 500 }, slowHandle), servers);
  assert.ok(slow);
  const socket = connect(slowHandle.port, "127.0.0.1");
  await once(socket, "connect");
  socket.write("POST /v1/tenants/get HTTP/1.1\r\nHost: gateway\r\n"); // and never the rest
  let answer = "";
  socket.on("data", (chunk: Buffer) => { answer += chunk.toString(); });
  await once(socket, "close");
  assert.match(answer, /^HTTP\/1\.1 408/, "Node's headersTimeout answers 408 and closes");
});
