import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { useTestServers } from "../../sandbox/testing/test-servers.ts";
import { startLlmMesh } from "../llm/test-support.ts";
import { gatewayContract } from "../../protocol/gateway.ts";
import { actorClient } from "../../runtime/index.ts";

const REPLICA_MAIN = fileURLToPath(new URL("./testing/replica-main.ts", import.meta.url));
const servers = await useTestServers();
const mesh = await startLlmMesh(servers);

async function startReplica() {
  const child = spawn(process.execPath, ["--import", "tsx", REPLICA_MAIN], {
    env: {
      ...process.env, NATS_URL: servers.natsUrl, NATS_CREDS: servers.credentials.credsFiles.gateway!, MONGO_URL: servers.mongoUrl, MESHWORK_DB_PREFIX: servers.databasePrefix,
      LOG_LEVEL: "warn", METRICS_PORT: "-1", GATEWAY_PORT: "0", GATEWAY_KEY_CACHE_MS: "1000",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
  servers.onCleanup(() => { if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL"); });
  for await (const line of createInterface({ input: child.stdout })) {
    const ready = /^ready \S+ (\d+)$/.exec(line);
    if (ready) return { child, exited, url: `http://127.0.0.1:${ready[1]}` };
  }
  throw new Error("the gateway replica exited before it was ready");
}

test("two gateway replicas serve the same keys, and SIGTERM of one under load loses no request", async () => {
  await mesh.createTenant("acme");
  const replicas = [await startReplica(), await startReplica()];
  const { key } = await actorClient(mesh.mesh, gatewayContract).createKey({}, { tenant: "acme" });
  await mesh.provider.setBehaviour({ latencyMs: 20 });
  const body = JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "under load" }], max_tokens: 8 });
  const served = [0, 0];
  const lost: string[] = [];
  let refusedAndRetried = 0;
  let done = 0;
  let stopping = false;

  // A fresh connection per request (Connection: close), so a refused connection is the only way a
  // stopped replica can turn a request away: it then goes to the other replica, as a balancer would.
  const send = async (first: number) => {
    for (let attempt = 0; attempt < 2; attempt++) {
      const index = (first + attempt) % 2;
      let response: Response;
      try {
        response = await fetch(`${replicas[index]!.url}/v1/chat/completions`, {
          method: "POST", body, headers: { authorization: `Bearer ${key}`, "content-type": "application/json", connection: "close" },
        });
      } catch (error) {
        const code = (error as { cause?: { code?: string } }).cause?.code;
        // Refused, or reset while waiting in the kernel's accept queue as the listener closed: the
        // replica never read the request (the count of usage events below checks it), so it goes
        // to the other replica, as a balancer retries a connection error.
        if (code === "ECONNREFUSED" || code === "ECONNRESET") {
          refusedAndRetried++;
          continue;
        }
        lost.push(`replica ${index}: ${code ?? String(error)}`);
        return;
      }
      if (response.status !== 200) lost.push(`replica ${index}: ${response.status} ${await response.text()}`);
      else {
        served[index]!++;
        await response.arrayBuffer();
      }
      return;
    }
    lost.push("both replicas refused the connection");
  };
  const worker = async (id: number) => {
    for (let n = id; !stopping; n++) {
      await send(n % 2);
      done++;
    }
  };
  const workers = Array.from({ length: 8 }, (_, id) => worker(id));
  while (served[0]! < 20 || served[1]! < 20) await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(lost, [], "both replicas answer the same key");

  replicas[0]!.child.kill("SIGTERM");
  const [code] = await replicas[0]!.exited;
  const afterStop = done;
  while (done < afterStop + 50) await new Promise((resolve) => setImmediate(resolve));
  stopping = true;
  await Promise.all(workers);

  assert.equal(code, 0, "the replica drained and exited cleanly");
  assert.deepEqual(lost, []);
  assert.ok(refusedAndRetried > 0, "requests after the stop went to the other replica");
  assert.equal(served[0]! + served[1]!, done);
  // Every completion the llm ran left one usage event: none ran for a request that was retried.
  assert.equal((await mesh.usageEvents("acme", done)).length, done, "no retried request had been served");
});
