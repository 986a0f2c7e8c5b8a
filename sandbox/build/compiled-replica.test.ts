/**
 * The production build runs: `buildProduction` compiles the current sources into a private
 * folder, and a tenants replica started from it with plain `node` (the Dockerfile's flags and
 * environment, no tsx) serves requests against real servers and drains on SIGTERM.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { tenantsContract } from "../../protocol/tenants.ts";
import { actorClient, MeshClient } from "../../runtime/index.ts";
import { WORK_DIR } from "../servers/index.ts";
import { useTestServers } from "../testing/test-servers.ts";
import { buildProduction, ENTRY_POINTS, PRODUCTION_ENV, PRODUCTION_NODE_FLAGS } from "./production-build.ts";

const servers = await useTestServers();
const outDir = join(WORK_DIR, "test", `dist-${servers.databasePrefix}`);
servers.onCleanup(() => rm(outDir, { recursive: true, force: true }));
const built = await buildProduction(outDir);

function startCompiled(args: string[]) {
  const child = spawn(process.execPath, [...PRODUCTION_NODE_FLAGS, join(outDir, "actors", "main.js"), ...args], {
    env: {
      ...process.env, ...PRODUCTION_ENV, NATS_URL: servers.natsUrl, MONGO_URL: servers.mongoUrl,
      // The actor's own creds (the operator's for a name that is no actor: it exits before connecting).
      NATS_CREDS: servers.credentials.credsFiles[args[0] ?? ""] ?? servers.credentials.credsFiles.operator!,
      MESHWORK_DB_PREFIX: servers.databasePrefix, METRICS_PORT: "0", LOG_LEVEL: "info",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = once(child, "exit").then(([code]) => code as number | null);
  servers.onCleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
  });
  const lines = createInterface({ input: child.stdout! });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  /** Resolves the first log line with this message; rejects if the process exits first. */
  const logLine = (message: string) => new Promise<Record<string, unknown>>((resolve, reject) => {
    const onLine = (line: string) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (entry.msg === message) {
        lines.off("line", onLine);
        resolve(entry);
      }
    };
    lines.on("line", onLine);
    exited.then((code) => reject(new Error(`exited (${code}) before "${message}": ${stderr}`)));
  });
  return { child, exited, logLine, stderr: () => stderr };
}

test("the build writes each entry point with its source map, and the actors as chunks of their own", () => {
  for (const entry of ENTRY_POINTS) {
    const file = entry.replace(/\.ts$/, ".js");
    assert.ok(built.files.includes(file), `${file} in ${built.files.join(", ")}`);
    assert.ok(built.files.includes(`${file}.map`), `${file}.map`);
  }
  assert.ok(built.files.filter((file) => /^chunks\/actor-[^/]+\.js$/.test(file)).length >= 4, "one lazily loaded chunk per actor");
});

test("a tenants replica from the compiled output answers requests and health checks, then drains on SIGTERM and exits 0", async () => {
  const replica = startCompiled(["tenants"]);
  const started = await replica.logLine("actor started");
  assert.deepEqual(started.endpoints, ["tenants.get", "tenants.put"]);

  const health = await fetch(`http://127.0.0.1:${String(started.metricsPort)}/healthz`);
  assert.equal(health.status, 200);

  const nc = await servers.connectNats();
  const client = new MeshClient(nc, { service: "compiled-test" });
  try {
    const tenants = actorClient(client, tenantsContract);
    const policy = {
      displayName: "Compiled", limits: { requestsPerMinute: 60, tokensPerMinute: 10_000 }, budget: { amountUsd: 5, period: "day" as const },
      allowedModels: [], allowedTools: [], maxPromptTokens: 4000, retention: { storePrompts: false, retentionDays: 7 },
    };
    await tenants.put({ policy, expectedVersion: 0 }, { tenant: "compiled" });
    const stored = await tenants.get({}, { tenant: "compiled" });
    assert.equal(stored.displayName, "Compiled");
    assert.equal(stored.version, 1);
  } finally {
    client.close();
    await nc.close();
  }

  const stopped = replica.logLine("actor stopped");
  replica.child.kill("SIGTERM");
  await stopped;
  assert.equal(await replica.exited, 0);
});

test("an unknown actor name exits 2 and names the actors there are, before connecting anywhere", async () => {
  const replica = startCompiled(["no-such-actor"]);
  assert.equal(await replica.exited, 2);
  assert.match(replica.stderr(), /unknown actor "no-such-actor"; known: tenants, ai-capacity, llm, usage/);
});
