import { test, after } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { handleOtlpExport, SpanStore, type ReceivedSpan } from "../../sandbox/observe/otlp-receiver.ts";
import { actorClient, flushTracing, isMeshError, MeshClient, startTracing, stopTracing, tracingEnabled } from "../index.ts";
import { fixtureActor, fixtureContract, fixtureSinkActor, fixtureSinkContract } from "../testing/fixture-actors.ts";
import { startInProcess } from "../testing/replicas.ts";

// A real OTLP/HTTP receiver: the SDK's exporter posts to it over HTTP.
const spans = new SpanStore();
const receiver = createServer((request, response) => {
  if (request.method === "POST" && request.url === "/v1/traces") handleOtlpExport(spans, request, response);
  else response.writeHead(404).end();
});
receiver.listen(0, "127.0.0.1");
await once(receiver, "listening");
const address = receiver.address() as { port: number };
const endpoint = `http://127.0.0.1:${address.port}`;

assert.equal(tracingEnabled(), false, "tracing is off until an endpoint is configured");
const servers = await useTestServers();
// Started before the actors, as an actor process does when OTEL_EXPORTER_OTLP_ENDPOINT is set.
await startTracing({ endpoint, serviceName: "tracing-test", exportDelayMs: 50 });
await startInProcess(fixtureActor, servers);
await startInProcess(fixtureSinkActor, servers);
const nc = await servers.connectNats();
const mesh = new MeshClient(nc, { service: "trace-tester" });
const fixture = actorClient(mesh, fixtureContract);
const sink = actorClient(mesh, fixtureSinkContract);
after(async () => {
  mesh.close();
  await stopTracing();
  receiver.close();
});

/** Waits until the receiver holds spans of `traceId` that satisfy `complete`. */
async function traceWhere(traceId: string, complete: (trace: ReceivedSpan[]) => boolean): Promise<ReceivedSpan[]> {
  for (;;) {
    await flushTracing();
    const trace = spans.trace(traceId);
    if (complete(trace)) return trace;
    await once(spans, "spans");
  }
}

const CLIENT = 3;
const SERVER = 2;
const PRODUCER = 4;
const CONSUMER = 5;

test("one trace spans client → actor → event publish → consumer → its store call, with tenant, actor and subject", async () => {
  const rootTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
  await fixture.emit({ value: "traced" }, { tenant: "acme", traceparent: `00-${rootTrace}-00f067aa0ba902b7-01` });
  const trace = await traceWhere(rootTrace, (t) => t.some((s) => s.kind === CONSUMER) && t.some((s) => s.name === "store update" && s.attributes["meshwork.actor"] === "fixture-sink"));
  const one = (predicate: (s: ReceivedSpan) => boolean, what: string) => {
    const found = trace.find(predicate);
    assert.ok(found, `${what} in ${JSON.stringify(trace.map((s) => s.name))}`);
    return found;
  };
  const client = one((s) => s.kind === CLIENT && s.name === "fixture.emit request", "client span");
  const server = one((s) => s.kind === SERVER && s.name === "fixture.emit handle", "server span");
  const publish = one((s) => s.kind === PRODUCER && s.name === "events.fixture.noted publish", "producer span");
  const consume = one((s) => s.kind === CONSUMER && s.name === "events.fixture.noted process", "consumer span");
  const store = one((s) => s.name === "store update" && s.attributes["meshwork.actor"] === "fixture-sink", "store span");
  assert.equal(client.parentSpanId, "00f067aa0ba902b7");
  assert.equal(server.parentSpanId, client.spanId);
  assert.equal(publish.parentSpanId, server.spanId);
  assert.equal(consume.parentSpanId, publish.spanId);
  assert.deepEqual(consume.links, [{ traceId: rootTrace, spanId: publish.spanId }]);
  assert.equal(store.parentSpanId, consume.spanId);
  assert.equal(server.attributes["meshwork.tenant"], "acme");
  assert.equal(server.attributes["meshwork.actor"], "fixture");
  assert.equal(server.attributes["messaging.destination.name"], "fixture.emit");
  assert.equal(consume.attributes["messaging.consumer.group.name"], "fixture-sink--noted");
  assert.equal(store.attributes["db.collection.name"], "applied");
  // Who and what, never the payload.
  // Who and what, never the payload (the fixture's event id, `acme-traced`, is made from it on purpose).
  const { "messaging.message.id": eventId, ...rest } = consume.attributes;
  assert.equal(eventId, "acme-traced");
  assert.ok(!JSON.stringify([rest, ...trace.filter((s) => s !== consume)]).includes("traced"), "no payload text in any span");
  await sink.applied({}, { tenant: "acme" });
});

test("a failed request's spans carry its error code, on the client and the server", async () => {
  const traceId = "5bf92f3577b34da6a3ce929d0e0e4736";
  await assert.rejects(fixture.fail({ code: "NOT_FOUND" }, { tenant: "acme", traceparent: `00-${traceId}-00f067aa0ba902b7-01` }), (error) => isMeshError(error) && error.code === "NOT_FOUND");
  const trace = await traceWhere(traceId, (t) => t.filter((s) => s.attributes["meshwork.error_code"] === "NOT_FOUND").length === 2);
  assert.deepEqual(trace.map((s) => [s.kind, s.status, s.attributes["meshwork.error_code"]]).sort((a, b) => Number(a[0]) - Number(b[0])), [[SERVER, 2, "NOT_FOUND"], [CLIENT, 2, "NOT_FOUND"]]);
});

test("a request without a trace context starts a new trace at the client", async () => {
  await fixture.echo({ text: "fresh" }, { tenant: "acme" });
  let server: ReceivedSpan | undefined;
  while (!server) {
    await flushTracing();
    server = spans.recentTraceIds(1000).flatMap((id) => spans.trace(id)).find((s) => s.name === "fixture.echo handle");
    if (!server) await once(spans, "spans");
  }
  const trace = await traceWhere(server.traceId, (t) => t.some((s) => s.kind === CLIENT));
  const client = trace.find((s) => s.kind === CLIENT)!;
  assert.equal(client.parentSpanId, "");
  assert.equal(trace.find((s) => s.kind === SERVER)!.parentSpanId, client.spanId);
});

test("the receiver refuses what is not an OTLP JSON export, with a status and no stored span", async () => {
  const before = spans.recentTraceIds(1000).length;
  const post = (body: string, type: string) => fetch(`${endpoint}/v1/traces`, { method: "POST", headers: { "content-type": type }, body }).then((r) => r.status);
  assert.equal(await post("{not json", "application/json"), 400);
  assert.equal(await post("{}", "application/json"), 400);
  assert.equal(await post("\x0a\x00", "application/x-protobuf"), 415);
  assert.equal(spans.recentTraceIds(1000).length, before);
});
