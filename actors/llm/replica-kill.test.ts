import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { createLlmActor } from "./actor.ts";
import { countPromptTokens } from "./prompt-tokens.ts";
import { ask, startActorForTest, startLlmMesh, sumOf, untilSettled, untilState, untilUsageConsumed } from "./test-support.ts";

const REPLICA_MAIN = fileURLToPath(new URL("./testing/replica-main.ts", import.meta.url));
const CALL_TIMEOUT_MS = 5000;
const servers = await useTestServers();
const mesh = await startLlmMesh(servers, { llmReplicas: 0, aiCapacity: { leaseTtlMs: 300, sweepIntervalMs: 50 }, usage: {} });

async function startKillableReplica() {
  const child = spawn(process.execPath, ["--import", "tsx", REPLICA_MAIN], {
    env: {
      ...process.env, NATS_URL: servers.natsUrl, NATS_CREDS: servers.credentials.credsFiles.llm!, MONGO_URL: servers.mongoUrl, MESHWORK_DB_PREFIX: servers.databasePrefix,
      LOG_LEVEL: "warn", METRICS_PORT: "-1", OPENAI_BASE_URL: mesh.provider.baseURL, OPENAI_API_KEY: "test", LLM_TIMEOUT_MS: String(CALL_TIMEOUT_MS),
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
  servers.onCleanup(() => { if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL"); });
  for await (const line of createInterface({ input: child.stdout })) {
    if (line.startsWith("ready ")) return { child, exited };
  }
  throw new Error("the llm replica exited before it was ready");
}

const nano = (usd: number) => Math.round(usd * 1e9);

test("an llm replica SIGKILLed mid-load: every call the provider answered is charged once and counted once; calls cut off are charged their reservation", async (t) => {
  await mesh.createTenant("killed");
  // One prompt for every call: each lease reserves the same (prompt + maxTokens) × $0.60 per million.
  const request = ask("the same question under load", { maxTokens: 32 });
  const reservationNano = (countPromptTokens(request.messages) + request.maxTokens) * 600;
  const replica = await startKillableReplica();
  await mesh.provider.setBehaviour({ latencyMs: 5 });

  const answers: { costUsd: number; promptTokens: number }[] = [];
  let inFlight = 0;
  let cutOff = 0;
  let stopping = false;
  const call = async () => {
    inFlight++;
    try {
      const result = await mesh.llm.complete(request, { tenant: "killed", timeoutMs: CALL_TIMEOUT_MS + 1000, maxAttempts: 1 });
      answers.push({ costUsd: result.costUsd, promptTokens: result.usage.promptTokens });
    } catch {
      cutOff++;
    } finally {
      inFlight--;
    }
  };
  const worker = async () => { while (!stopping) await call(); };
  const workers = Array.from({ length: 12 }, worker);

  await untilState("60 answers under load", async () => answers.length >= 60);
  // Hold every call still running at the provider, stop issuing new ones, and kill the replica
  // once each call in flight is at the provider (none is between its answer and its events).
  await mesh.provider.setBehaviour({ hang: true });
  stopping = true;
  await untilState("every call in flight to be held by the provider", async () => (await mesh.provider.stats()).hanging === inFlight);
  replica.child.kill("SIGKILL");
  const [, signal] = await replica.exited;
  assert.equal(signal, "SIGKILL");
  await mesh.provider.untilHanging(0);
  await Promise.all(workers);
  assert.ok(cutOff > 0, "some calls were cut off by the kill");

  // Load goes on through a new replica.
  await mesh.provider.setBehaviour({ hang: false });
  await startActorForTest(createLlmActor({ baseURL: mesh.provider.baseURL, apiKey: "test", timeoutMs: CALL_TIMEOUT_MS }), servers);
  await Promise.all(Array.from({ length: 30 }, call));

  await untilSettled(mesh.jsm);
  await untilState("the cut-off calls' leases to expire", async () => (await mesh.capacity.status({}, { tenant: "killed" })).reservedUsd === 0);
  const status = await mesh.capacity.status({}, { tenant: "killed" });
  const stats = await mesh.provider.stats();
  const billedNano = sumOf(answers, (answer) => nano(answer.costUsd));
  t.diagnostic(`answered ${answers.length}, provider 200s ${stats.byStatus["200"]}, cut off ${cutOff}; billed $${billedNano / 1e9}, charged $${status.spentUsd} `
    + `(= billed + ${cutOff} reservations of $${reservationNano / 1e9})`);
  assert.equal(stats.byStatus["200"], answers.length, "the provider answered exactly the calls that were answered");
  assert.equal(nano(status.spentUsd), billedNano + cutOff * reservationNano, "each answered call charged its cost once, each cut-off call its reservation");

  await untilUsageConsumed(mesh.jsm);
  const usage = (await mesh.usage.report({ groupBy: "model" }, { tenant: "killed" })).total;
  assert.equal(usage.requests, answers.length, "every answered call counted once");
  assert.equal(usage.promptTokens, sumOf(answers, (answer) => answer.promptTokens));
  assert.equal(nano(usage.costUsd), billedNano);
});
