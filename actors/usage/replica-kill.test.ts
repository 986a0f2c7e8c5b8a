import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { startActorForTest, storedUsageEvents, sumOf, untilUsageConsumed } from "../llm/test-support.ts";
import { createUsageActor } from "./actor.ts";
import { startUsageHarness, usageEvent } from "./test-support.ts";

const REPLICA_MAIN = fileURLToPath(new URL("./testing/replica-main.ts", import.meta.url));
const ACK_WAIT_MS = 2000;
const servers = await useTestServers();
const harness = await startUsageHarness(servers);

async function startCrashingReplica(crashAfter: number) {
  const child = spawn(process.execPath, ["--import", "tsx", REPLICA_MAIN], {
    env: {
      ...process.env, NATS_URL: servers.natsUrl, NATS_CREDS: servers.credentials.credsFiles.usage!, MONGO_URL: servers.mongoUrl, MESHWORK_DB_PREFIX: servers.databasePrefix,
      LOG_LEVEL: "warn", METRICS_PORT: "-1", USAGE_CRASH_AFTER: String(crashAfter), USAGE_ACK_WAIT_MS: String(ACK_WAIT_MS),
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
  servers.onCleanup(() => { if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL"); });
  for await (const line of createInterface({ input: child.stdout })) {
    if (line.startsWith("ready ")) return { exited };
  }
  throw new Error("the usage replica exited before it was ready");
}

test("aggregates equal the sum of the events after a replica is killed mid-stream", async () => {
  await harness.createTenant("kill", { amountUsd: 1000, period: "month" });
  const publish = (i: number) => harness.publish(usageEvent({ tenant: "kill", service: i % 2 ? "a" : "b", promptTokens: i, costUsd: (i % 7) / 1000 }));
  for (let i = 0; i < 150; i++) await publish(i);

  const replica = await startCrashingReplica(40);
  const [, signal] = await replica.exited;
  assert.equal(signal, "SIGKILL", "the replica died in the middle of the stream");

  await startActorForTest(createUsageActor({ ackWaitMs: ACK_WAIT_MS }), servers);
  for (let i = 150; i < 200; i++) await publish(i);
  await untilUsageConsumed(harness.jsm);

  const events = await storedUsageEvents(harness.jsm, "kill");
  assert.equal(events.length, 200);
  const report = await harness.usage.report({ groupBy: "service" }, { tenant: "kill" });
  assert.equal(report.total.requests, 200);
  assert.equal(report.total.promptTokens, sumOf(events, (e) => e.promptTokens));
  assert.equal(Math.round(report.total.costUsd * 1e9), Math.round(sumOf(events, (e) => e.costUsd) * 1e9));
  assert.deepEqual(report.rows.map((row) => [row.key, row.requests]), [["a", 100], ["b", 100]]);
});
