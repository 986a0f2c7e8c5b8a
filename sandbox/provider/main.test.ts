import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import OpenAI from "openai";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));

function startMain(t: TestContext, args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN, ...args], {
    env: { ...process.env, PROVIDER_PORT: "", PROVIDER_HOST: "", PROVIDER_MODELS: "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return { child, exited, stderr: () => stderr };
}

test("main prints its baseURL, serves the SDK and stops on SIGTERM", async (t) => {
  const { child, exited } = startMain(t, ["--models", "alpha, beta"]);
  const [line] = (await once(createInterface({ input: child.stdout }), "line")) as [string];
  const { baseURL, url } = JSON.parse(line) as { baseURL: string; url: string };
  assert.match(baseURL, /^http:\/\/127\.0\.0\.1:\d+\/v1$/);
  assert.equal(baseURL, `${url}/v1`);

  const client = new OpenAI({ baseURL, apiKey: "any-key", maxRetries: 0 });
  const listed = [];
  for await (const model of client.models.list()) listed.push(model.id);
  assert.deepEqual(listed, ["alpha", "beta"]);

  child.kill("SIGTERM");
  assert.deepEqual(await exited, [0, null]);
});

test("main rejects bad arguments with exit code 2", async (t) => {
  for (const [args, env] of [[["--port", "70000"], {}], [[], { PROVIDER_PORT: "abc" }]] as const) {
    const { exited, stderr } = startMain(t, [...args], env);
    const [code] = await exited;
    assert.equal(code, 2, stderr());
    assert.match(stderr(), /bad arguments/);
  }
});
