/**
 * CPU of this process per completion for the `openai` SDK with Node's built-in fetch (the (f)
 * baseline's client) and with the llm actor's provider client (`actors/llm/provider-fetch.ts`),
 * against the test provider in a process of its own, 16 in flight, rounds alternating:
 *   npx tsx sandbox/bench/provider-client-cpu.ts [--calls 3000] [--rounds 3]
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import OpenAI from "openai";
import { createProviderClient } from "../../actors/llm/provider-call.ts";
import { BENCH_DIR } from "./bench-environment.ts";
import { runFixedCount } from "./closed-loop.ts";
import { startMeasuredProcess } from "./measured-process.ts";

const { values } = parseArgs({ options: { calls: { type: "string", default: "3000" }, rounds: { type: "string", default: "3" } } });
const port = 20_000 + Math.floor(Math.random() * 20_000);
const provider = await startMeasuredProcess({
  nodeFlags: ["--import", "tsx"], script: fileURLToPath(new URL("../provider/main.ts", import.meta.url)), args: ["--port", String(port)], env: {},
  readyText: '"baseURL"', logFile: join(BENCH_DIR, "provider-client-cpu.log"), gcHook: false,
});
try {
  const baseURL = `http://127.0.0.1:${port}/v1`;
  const clients = {
    "openai SDK, built-in fetch": new OpenAI({ baseURL, apiKey: "test", maxRetries: 0, logLevel: "off" }),
    "openai SDK, llm provider client": createProviderClient(baseURL, "test"),
  };
  const params = { model: "gpt-4o-mini", messages: [{ role: "user" as const, content: "Summarise the quarterly report in two sentences." }], max_tokens: 64, temperature: 1 };
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const [name, client] of Object.entries(clients)) {
      await runFixedCount(() => client.chat.completions.create(params), 200, 16);
      const before = process.cpuUsage();
      const result = await runFixedCount(() => client.chat.completions.create(params), Number(values.calls), 16);
      const used = process.cpuUsage(before);
      process.stdout.write(`${name}: ${((used.user + used.system) / 1000 / result.summary.count).toFixed(3)} ms CPU per call, ${result.summary.throughput.toFixed(0)} calls/s, errors ${result.errors}\n`);
    }
  }
} finally {
  await provider.stop();
}
