/**
 * (j/k/l) the HTTP edge (issue 11) and llm streaming (issue 10, item 5).
 *
 * (j) (three interleaved rounds per server, pooled) `GET /v1/tenants/get` through the gateway (key lookup and policy cached as in production,
 *     edge rate, ETag) against a bare Hono server that calls `tenants.get` over NATS per request
 *     with the same mesh client; and, for the framework choice, a bare Fastify server doing the
 *     same against the bare Hono one. 16 concurrent HTTP callers, keep-alive.
 * (k) `POST /v1/chat/completions` through the gateway (-> llm -> provider) with the openai SDK
 *     against the same SDK calling the test provider directly (latency 0): the added latency of
 *     the whole mesh path, edge included.
 * (l) time to the first chunk of a streamed completion: `llm.complete` with `stream: true`
 *     through `MeshClient.stream` against the openai SDK streaming from the provider directly.
 */
import { connect } from "@nats-io/transport-node";
import { serve } from "@hono/node-server";
import Fastify from "fastify";
import { Hono } from "hono";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import OpenAI from "openai";
import { gatewayContract } from "../../protocol/gateway.ts";
import { CompletionChunk, llmContract } from "../../protocol/llm.ts";
import { tenantsContract } from "../../protocol/tenants.ts";
import { actorClient, MeshClient } from "../../runtime/index.ts";
import { createAiCapacityActor } from "../../actors/ai-capacity/actor.ts";
import { parseAiCapacityConfig } from "../../actors/ai-capacity/config.ts";
import { createGatewayActor, type GatewayHandle } from "../../actors/gateway/actor.ts";
import { createLlmActor } from "../../actors/llm/actor.ts";
import { tenantsActor } from "../../actors/tenants/actor.ts";
import { startTestProvider } from "../provider/test-provider.ts";
import { BENCH_TENANT } from "./bench-actors.ts";
import type { BenchEnvironment } from "./bench-environment.ts";
import { poolRounds, runClosedLoop, type LoadOptions, type LoadResult } from "./closed-loop.ts";
import type { Comparison } from "./report.ts";
import { UNLIMITED_POLICY } from "./scenario-leases.ts";

const MODEL = "gpt-4o-mini";
/** HTTP rounds per server, interleaved. */
const HTTP_ROUNDS = 3;
const decoder = new TextDecoder();
const decodeChunk = (data: Uint8Array) => CompletionChunk.parse(JSON.parse(decoder.decode(data)));

async function listenHono(mesh: MeshClient): Promise<{ url: string; close(): Promise<void> }> {
  const app = new Hono();
  app.get("/t", async (c) => c.json(await mesh.request(tenantsContract.requests.get, {}, { tenant: BENCH_TENANT })));
  const server = await new Promise<Server>((resolve) => {
    const started = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(started as Server));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/t`, close: () => new Promise((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }) };
}

async function listenFastify(mesh: MeshClient): Promise<{ url: string; close(): Promise<void> }> {
  const app = Fastify({ logger: false });
  app.get("/t", async () => mesh.request(tenantsContract.requests.get, {}, { tenant: BENCH_TENANT }));
  const address = await app.listen({ port: 0, host: "127.0.0.1" });
  return { url: `${address}/t`, close: () => app.close() };
}

async function fetchJson(url: string, headers: Record<string, string> = {}): Promise<void> {
  const response = await fetch(url, { headers });
  if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
  await response.arrayBuffer();
}

/** Runs `operation` and resolves at its first chunk; the rest is read in the background. */
async function firstChunk<T>(iterable: AsyncIterable<T>): Promise<void> {
  const iterator = iterable[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) throw new Error("the stream had no chunk");
  void (async () => { while (!(await iterator.next()).done); })().catch(() => undefined);
}

export async function benchGateway(env: BenchEnvironment, load: { http: LoadOptions; llm: LoadOptions }): Promise<Comparison[]> {
  const provider = await startTestProvider();
  const nc = await connect({ ...env.natsOptions(), name: "bench-gateway" });
  const mesh = new MeshClient(nc, { service: "bench-caller", maxAttempts: 1, defaultTimeoutMs: 30_000 });
  const started: Array<{ stop(): Promise<void> }> = [];
  try {
    started.push(await env.startActor(tenantsActor, "bench-tenants-g", "gateway"));
    started.push(await env.startActor(createAiCapacityActor(parseAiCapacityConfig({})), "bench-capacity-g", "gateway"));
    started.push(await env.startActor(createLlmActor({ baseURL: provider.baseURL, apiKey: "test" }), "bench-llm-g", "gateway"));
    const handle: GatewayHandle = { port: 0 };
    started.push(await env.startActor(createGatewayActor({ port: 0 }, handle), "bench-gateway-1", "gateway"));
    await actorClient(mesh, tenantsContract).put({ policy: UNLIMITED_POLICY, expectedVersion: 0 }, { tenant: BENCH_TENANT });
    const { key } = await actorClient(mesh, gatewayContract).createKey({}, { tenant: BENCH_TENANT });
    const gatewayUrl = `http://127.0.0.1:${handle.port}`;

    const hono = await listenHono(mesh);
    const fastify = await listenFastify(mesh);
    // Rounds interleave the three servers so that warm-up and drift on this shared machine land on each.
    const rounds = { hono: [] as LoadResult[], fastify: [] as LoadResult[], edge: [] as LoadResult[] };
    try {
      for (let round = 0; round < HTTP_ROUNDS; round++) {
        rounds.hono.push(await runClosedLoop(() => fetchJson(hono.url), load.http));
        rounds.fastify.push(await runClosedLoop(() => fetchJson(fastify.url), load.http));
        rounds.edge.push(await runClosedLoop(() => fetchJson(`${gatewayUrl}/v1/tenants/get`, { authorization: `Bearer ${key}` }), load.http));
      }
    } finally {
      await hono.close();
      await fastify.close();
    }
    const bareHono = poolRounds(rounds.hono);
    const bareFastify = poolRounds(rounds.fastify);
    const edge = poolRounds(rounds.edge);
    if (edge.firstError) process.stderr.write(`(j) first gateway error: ${String(edge.firstError)}\n`);

    const direct = new OpenAI({ baseURL: provider.baseURL, apiKey: "test", maxRetries: 0 });
    const throughGateway = new OpenAI({ baseURL: `${gatewayUrl}/v1`, apiKey: key, maxRetries: 0 });
    const ask = (index: number) => ({ model: MODEL, messages: [{ role: "user" as const, content: `Bench question ${index}` }], max_tokens: 32, temperature: 1 });
    const directCalls = await runClosedLoop((index) => direct.chat.completions.create(ask(index)), load.llm);
    const edgeCalls = await runClosedLoop((index) => throughGateway.chat.completions.create(ask(index)), load.llm);
    if (edgeCalls.firstError) process.stderr.write(`(k) first gateway completion error: ${String(edgeCalls.firstError)}\n`);

    const directStreams = await runClosedLoop(async (index) => firstChunk(await direct.chat.completions.create({ ...ask(index), stream: true, stream_options: { include_usage: true } })), load.llm);
    const meshStreams = await runClosedLoop((index) => firstChunk(mesh.stream(llmContract.requests.complete, {
      model: MODEL, messages: [{ role: "user", content: `Bench question ${index}` }], maxTokens: 32, stream: true,
    }, { tenant: BENCH_TENANT, decodeChunk })), load.llm);
    if (meshStreams.firstError) process.stderr.write(`(l) first stream error: ${String(meshStreams.firstError)}\n`);

    return [
      {
        scenario: "(j)",
        baseline: { label: "bare Hono server calling tenants.get", unit: "req/s", summary: bareHono.summary, errors: bareHono.errors },
        subject: { label: "gateway GET /v1/tenants/get", unit: "req/s", summary: edge.summary, errors: edge.errors },
        latencyMeaning: "one HTTP request to its reply, keep-alive, 16 callers",
      },
      {
        scenario: "(j)",
        baseline: { label: "bare Hono server calling tenants.get", unit: "req/s", summary: bareHono.summary, errors: bareHono.errors },
        subject: { label: "bare Fastify server calling tenants.get", unit: "req/s", summary: bareFastify.summary, errors: bareFastify.errors },
        latencyMeaning: "the framework's own cost (the choice of Hono)",
      },
      {
        scenario: "(k)",
        baseline: { label: "direct openai SDK completion", unit: "calls/s", summary: directCalls.summary, errors: directCalls.errors },
        subject: { label: "openai SDK through the gateway", unit: "calls/s", summary: edgeCalls.summary, errors: edgeCalls.errors },
        latencyMeaning: "one completion, test provider at zero latency",
      },
      {
        scenario: "(l)",
        baseline: { label: "direct openai SDK stream, first chunk", unit: "streams/s", summary: directStreams.summary, errors: directStreams.errors },
        subject: { label: "llm.complete stream, first chunk", unit: "streams/s", summary: meshStreams.summary, errors: meshStreams.errors },
        latencyMeaning: "time to the first chunk",
      },
    ];
  } finally {
    for (const actor of started.reverse()) await actor.stop();
    mesh.close();
    await nc.close();
    await provider.stop();
  }
}
