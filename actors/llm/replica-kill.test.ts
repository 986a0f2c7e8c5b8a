import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { createLlmActor } from "./actor.ts";
import { ask, startActorForTest, startLlmMesh, sumOf, untilSettled, untilState, untilUsageConsumed } from "./test-support.ts";

const REPLICA_MAIN = fileURLToPath(new URL("./testing/replica-main.ts", import.meta.url));
const CALL_TIMEOUT_MS = 5000;
const SHARE_USABLE_MS = 1000;
const LEASE_GRACE_MS = 300;
/** A share's lease lives its usable time, the longest call it admits, and ai-capacity's settle grace. */
const SHARE_LIFETIME_MS = SHARE_USABLE_MS + CALL_TIMEOUT_MS + LEASE_GRACE_MS;
const servers = await useTestServers();
const mesh = await startLlmMesh(servers, { llmReplicas: 0, aiCapacity: { leaseTtlMs: LEASE_GRACE_MS, sweepIntervalMs: 50 }, usage: {} });

async function startKillableReplica() {
  const child = spawn(process.execPath, ["--import", "tsx", REPLICA_MAIN], {
    env: {
      ...process.env, NATS_URL: servers.natsUrl, NATS_CREDS: servers.credentials.credsFiles.llm!, MONGO_URL: servers.mongoUrl, MESHWORK_DB_PREFIX: servers.databasePrefix,
      LOG_LEVEL: "warn", METRICS_PORT: "-1", OPENAI_BASE_URL: mesh.provider.baseURL, OPENAI_API_KEY: "test", LLM_TIMEOUT_MS: String(CALL_TIMEOUT_MS), LLM_SHARE_USABLE_MS: String(SHARE_USABLE_MS),
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

test("an llm replica SIGKILLed mid-load: its shares return within one lifetime charged their reservation; every call the provider answered is charged and counted once", async (t) => {
  await mesh.createTenant("killed");
  const request = ask("the same question under load", { maxTokens: 32 });
  const replica = await startKillableReplica();
  await mesh.provider.setBehaviour({ latencyMs: 5 });

  const answers: { costUsd: number; promptTokens: number }[] = [];
  let inFlight = 0;
  let cutOff = 0;
  let stopping = false;
  // A caller that gave up on a call the provider still answered would make "answered" and the
  // provider's count differ for a reason that is not the kill: after it, calls wait as long as a
  // loaded machine may need (before it, the calls cut off by the kill wait their whole timeout).
  let timeoutMs = CALL_TIMEOUT_MS + 1000;
  const call = async () => {
    inFlight++;
    try {
      const result = await mesh.llm.complete(request, { tenant: "killed", timeoutMs, maxAttempts: 1 });
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
  // once each call in flight is at the provider and every answer's usage event is stored
  // (billed calls publish theirs just after the answer).
  await mesh.provider.setBehaviour({ hang: true });
  stopping = true;
  await untilState("every call in flight to be held by the provider", async () => (await mesh.provider.stats()).hanging === inFlight);
  await mesh.usageEvents("killed", answers.length);
  replica.child.kill("SIGKILL");
  const [, signal] = await replica.exited;
  assert.equal(signal, "SIGKILL");
  await mesh.provider.untilHanging(0);
  await Promise.all(workers);
  assert.ok(cutOff > 0, "some calls were cut off by the kill");
  const killedAnswers = answers.length;
  // What the dead replica left: the shares it had settled (or that already expired) are booked, the ones it held are reserved.
  await untilSettled(mesh.jsm);
  const atKill = await mesh.capacity.status({}, { tenant: "killed" });

  // Load goes on through a new replica.
  timeoutMs = 60_000;
  await mesh.provider.setBehaviour({ hang: false });
  await startActorForTest(createLlmActor({ baseURL: mesh.provider.baseURL, apiKey: "test", timeoutMs: CALL_TIMEOUT_MS, shareIdleMs: 50 }), servers);
  await Promise.all(Array.from({ length: 30 }, call));

  // Nobody settles the dead replica's shares: they expire within one lifetime and are charged their reservation.
  await untilState("the dead replica's shares to return", async () => (await mesh.capacity.status({}, { tenant: "killed" })).reservedUsd === 0, SHARE_LIFETIME_MS + 5000);
  await untilSettled(mesh.jsm);
  const status = await mesh.capacity.status({}, { tenant: "killed" });
  const stats = await mesh.provider.stats();
  const billedNano = sumOf(answers, (answer) => nano(answer.costUsd));
  const billedByDeadNano = sumOf(answers.slice(0, killedAnswers), (answer) => nano(answer.costUsd));
  t.diagnostic(`answered ${answers.length} (${killedAnswers} by the killed replica), provider 200s ${stats.byStatus["200"]}, cut off ${cutOff}; billed $${billedNano / 1e9}, `
    + `charged $${status.spentUsd} ($${atKill.spentUsd} booked at the kill + its open shares' reservations $${atKill.reservedUsd} + the new replica's calls)`);
  assert.equal(stats.byStatus["200"], answers.length, "the provider answered exactly the calls that were answered");
  assert.ok(nano(atKill.spentUsd) + nano(atKill.reservedUsd) >= billedByDeadNano, "every call the dead replica answered is covered by what it was charged");
  assert.equal(nano(status.spentUsd), nano(atKill.spentUsd) + nano(atKill.reservedUsd) + (billedNano - billedByDeadNano),
    "the dead replica's shares charged their reservation once, the new replica's calls their cost once");

  await untilUsageConsumed(mesh.jsm);
  const usage = (await mesh.usage.report({ groupBy: "model" }, { tenant: "killed" })).total;
  assert.equal(usage.requests, answers.length, "every answered call counted once");
  assert.equal(usage.promptTokens, sumOf(answers, (answer) => answer.promptTokens));
  assert.equal(nano(usage.costUsd), billedNano);
});
