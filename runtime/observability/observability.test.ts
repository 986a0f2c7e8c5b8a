import { test, after } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { actorClient, MeshClient } from "../index.ts";
import { fixtureActor, fixtureContract } from "../testing/fixture-actors.ts";
import { startInProcess } from "../testing/replicas.ts";
import { createLogger } from "./logger.ts";

const servers = await useTestServers();
const replica = await startInProcess(fixtureActor, servers, { metricsPort: 0 });
const nc = await servers.connectNats();
const mesh = new MeshClient(nc);
after(async () => {
  mesh.close();
  await nc.close();
});

test("metrics, health and readiness are served over HTTP in Prometheus format", async () => {
  await actorClient(mesh, fixtureContract).echo({ text: "counted" }, { tenant: "metrics" });
  const base = `http://127.0.0.1:${replica.metricsPort}`;
  const metrics = await (await fetch(`${base}/metrics`)).text();
  assert.match(metrics, /mesh_requests_total\{[^}]*subject="fixture.echo"[^}]*code="OK"[^}]*\} 1/);
  assert.match(metrics, /mesh_request_duration_seconds_bucket\{/);
  assert.match(metrics, /mesh_requests_in_flight\{[^}]*\} 0/);
  assert.equal((await fetch(`${base}/healthz`)).status, 200);
  assert.equal((await fetch(`${base}/readyz`)).status, 200);
  assert.equal((await fetch(`${base}/nothing`)).status, 404);
});

test("log lines carry actor and instance, and secrets and prompt text are redacted", () => {
  const lines: string[] = [];
  const destination = new Writable({ write(chunk, _encoding, done) { lines.push(String(chunk)); done(); } });
  const log = createLogger({ actor: "llm", instance: "i-1", destination }).child({ subject: "llm.complete", tenant: "acme", traceId: "t" });
  log.info({ apiKey: "sk-secret", input: { messages: [{ role: "user", content: "my password is hunter2" }] }, prompt: "private" }, "called");
  const line = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.equal(line.actor, "llm");
  assert.equal(line.instance, "i-1");
  assert.equal(line.tenant, "acme");
  assert.equal(line.subject, "llm.complete");
  assert.doesNotMatch(lines[0]!, /sk-secret|hunter2|private/);
});
